// `/ghconnect audit N` as Slack can show it. An auditor asking for the last N entries wants the
// newest first and must never lose one silently: entries are packed whole into section blocks
// within Slack's limits (3,000 characters a section, 50 blocks a message), an entry too long for
// one line is shortened only where mrkdwn survives, and whatever does not fit is counted and
// pointed at the full export.
import type { AuditEntry } from "./audit.js";
import { when } from "./enable-card.js";
import { type Block, type Message, SLACK_LIMITS, safeMrkdwn } from "./message.js";

/** Longest line one entry may take; long reasons are shortened, never the entry dropped. */
export const AUDIT_LINE_MAX = 600;
const REASON_MAX = 240;

export const AUDIT_EXPORT_COMMAND = "npx ghconnect audit export --format jsonl > audit.jsonl";

/** One entry as one mrkdwn line: sequence number, time, who, what, on what, outcome and why. */
export function auditLine(e: AuditEntry): string {
  const reason = typeof e.details.reason === "string" ? ` — ${safeMrkdwn(e.details.reason, REASON_MAX)}` : "";
  const who = e.actor_slack ? `<@${e.actor_slack}>` : "ghconnect";
  return safeMrkdwn(
    `\`#${e.seq}\` ${when(e.at)} ${who} *${e.action}*${e.target ? ` ${e.target}` : ""} → ${e.outcome}${reason}`,
    AUDIT_LINE_MAX,
  );
}

/**
 * The listing of `entries` (newest first) out of `total` in the trail. Lines are split between
 * section blocks only between entries; entries beyond the block budget are counted as not shown.
 */
export function auditListing(input: { entries: AuditEntry[]; total: number }): Message {
  const { entries, total } = input;
  // The header and the context line take two of the message's blocks.
  const sectionBudget = SLACK_LIMITS.blocks - 2;
  const sections: string[] = [];
  let shown = 0;
  for (const entry of entries) {
    const line = auditLine(entry);
    const last = sections.length - 1;
    if (last >= 0 && (sections[last] as string).length + 1 + line.length <= SLACK_LIMITS.sectionText) {
      sections[last] = `${sections[last]}\n${line}`;
    } else if (sections.length < sectionBudget) {
      sections.push(line);
    } else {
      break;
    }
    shown++;
  }
  const notShown = total - shown;
  const exportHint = `Export all: \`${AUDIT_EXPORT_COMMAND}\`. Check the chain: \`/ghconnect audit verify\`.`;
  const context =
    notShown > 0
      ? `Showing the newest ${shown} of ${total} entries; ${notShown} older ${notShown === 1 ? "entry is" : "entries are"} not shown. ${exportHint}`
      : `All ${total} ${total === 1 ? "entry" : "entries"}, newest first. ${exportHint}`;
  const blocks: Block[] = [
    { kind: "header", text: shown ? `Audit trail — newest ${shown} of ${total}` : "Audit trail" },
    ...(sections.length ? sections.map((text): Block => ({ kind: "text", text })) : [{ kind: "text" as const, text: "No entries yet." }]),
    { kind: "context", text: context },
  ];
  return { text: `The newest ${shown} of ${total} audit entries`, blocks };
}
