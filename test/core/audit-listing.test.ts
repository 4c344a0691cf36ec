// `/ghconnect audit N` as Slack receives it, for any entries at all: within Slack's Block Kit
// limits (the Slack stand-in's validator, which refuses what Slack refuses), newest first, every
// entry shown or counted, and no mention or code span broken by a cut.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/core/audit.js";
import { auditListing } from "../../src/core/audit-listing.js";
import { shortenMrkdwn } from "../../src/core/message.js";
import { blockKitProblems } from "../../src/sandbox/slack/blocks.js";
import { renderMessage } from "../../src/slack/render.js";

const MENTION = /<@U[A-Z0-9]+>/g;

/** Text made of plain words, mentions, links, code spans and emoji, in any order and length. */
const mrkdwnText = fc
  .array(
    fc.oneof(
      fc.string({ unit: fc.constantFrom(..."abc xyz-._é"), maxLength: 60 }),
      fc.stringMatching(/^U[A-Z0-9]{8,10}$/).map((id) => `<@${id}>`),
      fc.constant("<https://ghes.example.com/stafftools/users/alice|alice's page>"),
      fc.string({ unit: fc.constantFrom(..."acme-org_1"), minLength: 1, maxLength: 40 }).map((s) => `\`${s}\``),
      fc.constant("🚫"),
    ),
    { maxLength: 80 },
  )
  .map((parts) => parts.join(" "));

const entry = (seq: number, reason: string | undefined, target: string | null, actor: string | null): AuditEntry => ({
  seq,
  id: `id-${seq}`,
  at: new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString(),
  actor_slack: actor,
  actor_ghes: null,
  actor_github: null,
  action: "command.enable",
  target,
  outcome: "refused",
  details: reason === undefined ? {} : { reason },
  prev_hash: "0".repeat(64),
  hash: "0".repeat(64),
});

const entries = fc
  .array(
    fc.record({
      reason: fc.option(mrkdwnText, { nil: undefined }),
      target: fc.option(fc.string({ unit: fc.constantFrom(..."acme-inc"), maxLength: 2000 }), { nil: null }),
      actor: fc.option(fc.stringMatching(/^U[A-Z0-9]{8}$/), { nil: null }),
    }),
    { maxLength: 50 },
  )
  .map((list) => list.map((e, i) => entry(1000 - i, e.reason, e.target, e.actor)));

function sectionsOf(blocks: ReturnType<typeof renderMessage>["blocks"]): string[] {
  return blocks.flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));
}

describe("the audit listing", () => {
  it("fits Slack's limits for any entries, newest first, every entry shown or counted, markup intact", () => {
    fc.assert(
      fc.property(entries, fc.integer({ min: 0, max: 5000 }), (list, older) => {
        const total = list.length + older;
        const slack = renderMessage(auditListing({ entries: list, total }));
        expect(blockKitProblems(slack.blocks)).toEqual([]);
        const sections = sectionsOf(slack.blocks);
        const lines = sections.flatMap((s) => s.split("\n")).filter((l) => l !== "No entries yet.");
        // Newest first, and each line is one entry.
        const seqs = lines.map((l) => Number(/^`#(\d+)`/.exec(l)?.[1]));
        expect(seqs).toEqual(list.slice(0, seqs.length).map((e) => e.seq));
        // What is not shown is said.
        const context = JSON.stringify(slack.blocks.at(-1));
        if (lines.length < total) expect(context).toContain(`Showing the newest ${lines.length} of ${total} entries`);
        for (const section of sections) {
          expect((section.match(/`/g) ?? []).length % 2).toBe(0);
          // Every `<` that starts a mention is a whole mention.
          expect((section.match(/<@/g) ?? []).length).toBe((section.match(MENTION) ?? []).length);
          expect((section.match(/</g) ?? []).length).toBe((section.match(/>/g) ?? []).length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("shows the count not shown and how to export when N is less than the whole trail", () => {
    const list = [entry(200, "no", "acme", "U0ALICE001"), entry(199, undefined, null, null)];
    const slack = renderMessage(auditListing({ entries: list, total: 200 }));
    const text = JSON.stringify(slack.blocks);
    expect(text).toContain("Audit trail — newest 2 of 200");
    expect(text).toContain("Showing the newest 2 of 200 entries; 198 older entries are not shown.");
    expect(text).toContain("Export all: `npx ghconnect audit export --format jsonl > audit.jsonl`");
  });
});

describe("the audit listing at Slack's block limit", () => {
  it("stops at 50 blocks and counts every entry it could not show", () => {
    const long = `<@U0BOB00001> ${"`acme` refused ".repeat(60)}`;
    const list = Array.from({ length: 300 }, (_, i) => entry(300 - i, long, "acme-".repeat(200), "U0MALLORY1"));
    const slack = renderMessage(auditListing({ entries: list, total: 300 }));
    expect(blockKitProblems(slack.blocks)).toEqual([]);
    expect(slack.blocks).toHaveLength(50);
    const shown = sectionsOf(slack.blocks).flatMap((t) => t.split("\n")).length;
    expect(shown).toBeLessThan(300);
    expect(JSON.stringify(slack.blocks.at(-1))).toContain(
      `Showing the newest ${shown} of 300 entries; ${300 - shown} older entries are not shown.`,
    );
  });
});

describe("shortening mrkdwn", () => {
  it("never cuts inside a mention or a link, and closes a code span it cuts", () => {
    const mention = `${"x".repeat(95)} <@U0ALICE001> tail`;
    expect(shortenMrkdwn(mention, 100)).toBe(`${"x".repeat(95)}…`);
    const code = `see \`${"a".repeat(200)}\``;
    const short = shortenMrkdwn(code, 50);
    expect(short).toHaveLength(50);
    expect(short.endsWith("`…")).toBe(true);
    expect(shortenMrkdwn("fits", 10)).toBe("fits");
  });
});
