// Renders Slack messages as readable terminal text, numbering buttons and links so the demo's
// `:click N`, `:browse N` and `:open N` can refer to them.
import type { PostedMessage } from "./server.js";

export interface Item {
  n: number;
  kind: "button" | "link";
  label: string;
  message: PostedMessage;
  actionId?: string;
  value?: string;
  url?: string;
  confirm?: { title: string; text: string; confirm: string };
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  cyan(s: string): string;
  red(s: string): string;
  green(s: string): string;
}

export const plain: Style = { bold: (s) => s, dim: (s) => s, cyan: (s) => s, red: (s) => s, green: (s) => s };
export const ansi: Style = {
  bold: (s) => `\x1b[1m${s}\x1b[22m`,
  dim: (s) => `\x1b[2m${s}\x1b[22m`,
  cyan: (s) => `\x1b[36m${s}\x1b[39m`,
  red: (s) => `\x1b[31m${s}\x1b[39m`,
  green: (s) => `\x1b[32m${s}\x1b[39m`,
};

type Json = Record<string, unknown>;
const txt = (t: unknown) => String((t as Json | undefined)?.text ?? "");

export class Transcript {
  readonly items: Item[] = [];

  constructor(private readonly style: Style) {}

  private link(message: PostedMessage, url: string, label: string): string {
    const existing = this.items.find((i) => i.kind === "link" && i.url === url);
    const n = existing?.n ?? this.items.length + 1;
    if (!existing) this.items.push({ n, kind: "link", label, url, message });
    return this.style.cyan(`${label} (${n})`);
  }

  /** mrkdwn → terminal text: links numbered, *bold* and `code` kept readable. */
  private mrkdwn(message: PostedMessage, text: string): string {
    return text
      .replace(/<(https?:\/\/[^|>]+)(?:\|([^>]+))?>/g, (_m, url: string, label?: string) => this.link(message, url, label ?? url))
      .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, "@$1")
      .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name ?? id}`)
      .replace(/\*([^*\n]+)\*/g, (_m, s: string) => this.style.bold(s));
  }

  render(message: PostedMessage, heading: string): string {
    const lines: string[] = [this.style.dim(heading)];
    const blocks = message.blocks as Json[];
    if (!blocks.length) lines.push(this.mrkdwn(message, message.text));
    for (const block of blocks) {
      switch (block.type) {
        case "header":
          lines.push(this.style.bold(txt(block.text)));
          break;
        case "section":
          if (block.text) lines.push(this.mrkdwn(message, txt(block.text)));
          if (Array.isArray(block.fields))
            for (const f of block.fields) lines.push(`  ${this.mrkdwn(message, txt(f)).replace(/\n/g, ": ")}`);
          break;
        case "context":
          for (const e of (block.elements as Json[]) ?? []) lines.push(this.style.dim(this.mrkdwn(message, String(e.text ?? ""))));
          break;
        case "divider":
          lines.push(this.style.dim("─".repeat(40)));
          break;
        case "actions": {
          const buttons: string[] = [];
          for (const el of (block.elements as Json[]) ?? []) {
            const label = txt(el.text);
            if (typeof el.url === "string") {
              buttons.push(this.link(message, el.url, `[${label}]`));
              continue;
            }
            const n = this.items.length + 1;
            const confirm = el.confirm as Json | undefined;
            this.items.push({
              n,
              kind: "button",
              label,
              message,
              actionId: String(el.action_id),
              value: el.value as string | undefined,
              confirm: confirm ? { title: txt(confirm.title), text: txt(confirm.text), confirm: txt(confirm.confirm) } : undefined,
            });
            const shown = `[${label}] (${n})`;
            buttons.push(el.style === "danger" ? this.style.red(shown) : el.style === "primary" ? this.style.green(shown) : shown);
          }
          lines.push(buttons.join("  "));
          break;
        }
      }
    }
    return lines.join("\n");
  }
}
