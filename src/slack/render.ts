// core Message → Block Kit. Slack rejects blocks over its limits (invalid_blocks), so every
// string is clipped to the documented maximum here, in one place; mrkdwn is clipped only where
// its markup survives (core's shortenMrkdwn), so a clip never breaks a mention or a code span.
import type { KnownBlock, Button as SlackButton } from "@slack/types";
import { type Block, type Button, type Message, shortenMrkdwn } from "../core/message.js";

const LIMIT = {
  section: 3000,
  header: 150,
  field: 2000,
  fields: 10,
  button: 75,
  value: 2000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  blocks: 50,
  text: 3000,
};

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function renderButton(button: Button, index: number): SlackButton {
  const out: SlackButton = {
    type: "button",
    action_id: clip(button.action, 200) + (button.url ? `.${index}` : ""),
    text: { type: "plain_text", text: clip(button.label, LIMIT.button), emoji: true },
  };
  if (button.value !== undefined) out.value = clip(button.value, LIMIT.value);
  if (button.url) out.url = button.url;
  if (button.style) out.style = button.style;
  if (button.confirm) {
    out.confirm = {
      title: { type: "plain_text", text: clip(button.confirm.title, LIMIT.confirmTitle) },
      text: { type: "mrkdwn", text: clip(button.confirm.text, LIMIT.confirmText) },
      confirm: { type: "plain_text", text: clip(button.confirm.confirm, LIMIT.confirmButton) },
      deny: { type: "plain_text", text: clip(button.confirm.deny, LIMIT.confirmButton) },
      ...(button.style === "danger" ? { style: "danger" as const } : {}),
    };
  }
  return out;
}

function renderBlock(block: Block, index: number): KnownBlock {
  switch (block.kind) {
    case "header":
      return { type: "header", text: { type: "plain_text", text: clip(block.text, LIMIT.header), emoji: true } };
    case "text":
      return { type: "section", text: { type: "mrkdwn", text: shortenMrkdwn(block.text, LIMIT.section) } };
    case "fields":
      return {
        type: "section",
        fields: block.fields
          .slice(0, LIMIT.fields)
          .map(([label, value]) => ({ type: "mrkdwn", text: shortenMrkdwn(`*${label}*\n${value}`, LIMIT.field) })),
      };
    case "context":
      return { type: "context", elements: [{ type: "mrkdwn", text: shortenMrkdwn(block.text, LIMIT.section) }] };
    case "actions":
      return { type: "actions", block_id: `actions_${index}`, elements: block.buttons.slice(0, 25).map(renderButton) };
    case "divider":
      return { type: "divider" };
  }
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export function renderMessage(message: Message): SlackMessage {
  return {
    text: clip(message.text, LIMIT.text),
    blocks: message.blocks.slice(0, LIMIT.blocks).map(renderBlock),
  };
}

export type EphemeralReply = SlackMessage & { response_type: "ephemeral" };

let lastEphemeral: { message: Message; reply: EphemeralReply } | undefined;

/**
 * A private reply to a slash command (only the user who typed it sees it). The same message
 * again (one `status` view shared by a burst of commands) gets the same rendering, not a new one;
 * callers must not change it.
 */
export function ephemeral(message: Message): EphemeralReply {
  if (lastEphemeral?.message !== message)
    lastEphemeral = { message, reply: { response_type: "ephemeral" as const, ...renderMessage(message) } };
  return lastEphemeral.reply;
}
