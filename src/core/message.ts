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

/**
 * A refusal as the person reads it: the one place its emoji is added. `nothingChanged` says so
 * after the sentence, for a click that changed nothing.
 */
export function refusalMessage(refusal: { reason: string; hint?: string }, options: { nothingChanged?: boolean } = {}): Message {
  return simpleMessage(`:no_entry: ${refusal.reason}${options.nothingChanged ? " Nothing was changed." : ""}`, refusal.hint);
}

/**
 * Slack's Block Kit limits that shape what core composes (the renderer clips to the others): a
 * section's text and a message's block count. Slack refuses a message over them (invalid_blocks).
 */
export const SLACK_LIMITS = { sectionText: 3000, blocks: 50 } as const;

/**
 * `text` in at most `max` characters, shortened (with "…") only at a point where Slack's mrkdwn
 * survives: never inside a `<…>` mention or link, never inside a surrogate pair, and with an
 * open code span closed. Text that fits is returned as it is.
 */
export function shortenMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  // Room for a closing backtick and the ellipsis.
  let cut = Math.max(0, max - 2);
  const angle = text.lastIndexOf("<", cut - 1);
  if (angle !== -1) {
    const close = text.indexOf(">", angle);
    if (close === -1 || close >= cut) cut = angle;
  }
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  const kept = text.slice(0, cut).trimEnd();
  return `${kept}${countBackticks(kept) % 2 === 1 ? "`" : ""}…`;
}

/** `text` in at most `max` characters with every code span closed (see shortenMrkdwn). */
export function safeMrkdwn(text: string, max: number): string {
  const short = shortenMrkdwn(text, max - 1);
  return countBackticks(short) % 2 === 1 ? `${short}\`` : short;
}

function countBackticks(text: string): number {
  let n = 0;
  for (const c of text) if (c === "`") n++;
  return n;
}
