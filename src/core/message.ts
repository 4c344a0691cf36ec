// What the bot says, independent of Slack: the slack/ layer renders it as Block Kit.
// Text is Slack mrkdwn-compatible but readable as plain text too (the demo prints it).

export interface Confirm {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

export interface Button {
  /** Stable action id the listener routes on, e.g. "disconnect.approve". */
  action: string;
  label: string;
  /** Opaque value carried back on click (an approval or operation id). */
  value?: string;
  url?: string;
  style?: "primary" | "danger";
  confirm?: Confirm;
}

export type Block =
  | { kind: "header"; text: string }
  | { kind: "text"; text: string }
  | { kind: "fields"; fields: Array<[label: string, value: string]> }
  | { kind: "context"; text: string }
  | { kind: "actions"; buttons: Button[] }
  | { kind: "divider" };

export interface Message {
  /** Fallback text for notifications and screen readers; always set. */
  text: string;
  blocks: Block[];
}

export function simpleMessage(text: string, context?: string): Message {
  const blocks: Block[] = [{ kind: "text", text }];
  if (context) blocks.push({ kind: "context", text: context });
  return { text, blocks };
}
