// The audit chain's witness outside the database (SPEC §5). The hash chain alone cannot notice
// that its newest entries were deleted, or that an older copy of the database was restored: what
// is left is still a valid chain. Every line the bot posts to the admin channel therefore carries
// the entry's sequence number and hash, and verification compares the database with the newest
// of those the channel holds. Whoever can rewrite the database cannot also unpost Slack messages
// (unless they also control the bot's Slack token).
import { humanLine } from "./announce.js";
import { type AuditEntry, type VerifyResult, verifyChain } from "./audit.js";
import { type Message, simpleMessage } from "./message.js";
import type { WitnessSource } from "./ports.js";

/** An entry as the admin channel saw it. */
export interface Witness {
  seq: number;
  hash: string;
}

/** Slack's metadata event type the bot tags its witnessed lines with. */
export const WITNESS_EVENT_TYPE = "ghconnect_audit";

/** What people read under a witnessed line: `#17 · 3f2a9c1e…`. */
export function witnessMark(w: Witness): string {
  return `#${w.seq} · ${w.hash.slice(0, 8)}…`;
}

/** The witnesses the admin channel holds, or why they could not be read and how to fix it. */
export type WitnessReading = { readable: true; newest?: Witness; seen: Witness[] } | { readable: false; problem: string; fix: string };

export type WitnessVerdict =
  /** The database holds the newest witnessed entry, with the same hash. */
  | { kind: "matches"; witness: Witness }
  /** The channel has no witness, and the database holds no entry that would have posted one. */
  | { kind: "none" }
  /**
   * The channel shows no witness although the database holds entries whose lines carry one:
   * their lines were deleted, buried beyond what could be read, or never reached Slack. Nothing
   * can be compared, so deleted newest entries cannot be ruled out.
   */
  | { kind: "inconclusive"; announced: number; first: number; last: number }
  | { kind: "unreadable"; problem: string; fix: string }
  /** The database ends before the newest witnessed entry. */
  | { kind: "missing"; from: number; to: number; dbEnd: number; witness: Witness }
  /** The database's entry differs from what the channel saw: rolled back and rewritten. */
  | { kind: "different"; seq: number; dbHash: string; witness: Witness };

/**
 * Compares the database with the channel's witnesses: the newest one decides whether entries are
 * missing; any witness the database disagrees with (the newest, or an older one read on the way)
 * means the chain was rewritten from there.
 */
export function compareWithWitness(
  reading: WitnessReading,
  db: { entryAt: (seq: number) => AuditEntry | undefined; dbEnd: number; announced: number[] },
): WitnessVerdict {
  const { entryAt, dbEnd, announced } = db;
  if (!reading.readable) return { kind: "unreadable", problem: reading.problem, fix: reading.fix };
  const newest = reading.newest;
  if (!newest) {
    const [first, last] = [announced[0], announced[announced.length - 1]];
    return first === undefined || last === undefined
      ? { kind: "none" }
      : { kind: "inconclusive", announced: announced.length, first, last };
  }
  if (dbEnd < newest.seq) return { kind: "missing", from: dbEnd + 1, to: newest.seq, dbEnd, witness: newest };
  // Oldest first: the first entry the database disagrees on is where the rewrite began.
  for (const w of [...reading.seen].sort((a, b) => a.seq - b.seq)) {
    const entry = entryAt(w.seq);
    if (entry && entry.hash !== w.hash) return { kind: "different", seq: w.seq, dbHash: entry.hash, witness: w };
  }
  return { kind: "matches", witness: newest };
}

const range = (from: number, to: number) => (from === to ? `entry ${from} is` : `entries ${from}–${to} are`);

/** The sentence an admin or an auditor reads for a verdict. */
export function witnessSentence(v: WitnessVerdict): string {
  switch (v.kind) {
    case "matches":
      return `The admin channel's newest witness, entry ${v.witness.seq} (${v.witness.hash.slice(0, 8)}…), matches the database.`;
    case "none":
      return "The admin channel holds no witness yet, so deleted newest entries could not be noticed until one is posted.";
    case "inconclusive":
      return `Inconclusive: the admin channel shows no witness although ${v.announced === 1 ? `entry ${v.first} was` : `${v.announced} entries (${v.first}…${v.last}) were`} posted there, so deleted newest entries cannot be ruled out. Check that the bot is still in the channel and that its lines were not deleted.`;
    case "unreadable":
      return `The admin channel could not be read (${v.problem}), so deleted newest entries or a restored older database would go unnoticed. ${v.fix}`;
    case "missing":
      return `${range(v.from, v.to).replace(/^e/, "E")} missing: the database ends at ${v.dbEnd}, the admin channel saw ${v.witness.seq}.`;
    case "different":
      return `Entry ${v.seq} is not the one the admin channel saw (hash ${v.dbHash.slice(0, 8)}… in the database, ${v.witness.hash.slice(0, 8)}… in the channel): the database was rolled back or rewritten from entry ${v.seq} or earlier.`;
  }
}

/** A verdict that means the database lost or changed entries. */
export const witnessFailed = (v: WitnessVerdict): boolean => v.kind === "missing" || v.kind === "different" || v.kind === "inconclusive";

export interface TrailReport {
  chain: VerifyResult;
  verdict: WitnessVerdict;
  /** The chain holds and the channel does not contradict it. */
  ok: boolean;
  /** Audit details of the verification (no secrets: sequence numbers and hashes). */
  details: Record<string, unknown>;
}

/**
 * `audit verify`, in Slack and in the CLI: the chain recomputed, then compared with the admin
 * channel. The channel is read first: an entry committed meanwhile is then in the database too,
 * so a line posted during the check cannot look like a missing entry.
 */
export async function verifyTrail(entries: () => AsyncIterable<AuditEntry>, witnesses: WitnessSource | undefined): Promise<TrailReport> {
  const reading: WitnessReading = witnesses
    ? await witnesses.read()
    : {
        readable: false,
        problem: "Slack is not configured here",
        fix: "Set SLACK_BOT_TOKEN and SLACK_ADMIN_CHANNEL (and SLACK_API_URL if not Slack's) to compare with the admin channel.",
      };
  const all: AuditEntry[] = [];
  for await (const e of entries()) all.push(e);
  const chain = verifyChain(all);
  const bySeq = new Map(all.map((e) => [e.seq, e]));
  const dbEnd = all.reduce((max, e) => Math.max(e.seq, max), 0);
  // Entries whose line in the channel carries a witness (announce.ts): with one of them in the
  // database, a channel without any witness is not "nothing posted yet".
  const announced = all.filter((e) => humanLine(e) !== undefined).map((e) => e.seq);
  const verdict = compareWithWitness(reading, { entryAt: (seq) => bySeq.get(seq), dbEnd, announced });
  const witness = "witness" in verdict ? { witness_seq: verdict.witness.seq, witness_hash: verdict.witness.hash } : {};
  const details: Record<string, unknown> = chain.ok
    ? { entries: chain.count, db_end: dbEnd, witness: verdict.kind, ...witness }
    : { entries: chain.count, bad_seq: chain.badSeq, reason: chain.reason, witness: verdict.kind, ...witness };
  if (chain.ok && witnessFailed(verdict)) details.reason = witnessSentence(verdict);
  if (verdict.kind === "unreadable") details.witness_problem = verdict.problem;
  return { chain, verdict, ok: chain.ok && !witnessFailed(verdict), details };
}

/** What `audit verify` answers: the chain, then the admin channel's witness. */
export function auditVerifyMessage(report: TrailReport): Message {
  const { chain, verdict } = report;
  const chainLine = chain.ok
    ? `✅ ${chain.count} entries, chain intact (head \`${chain.head.slice(0, 16)}…\`).`
    : `❌ The audit chain is broken at entry #${chain.badSeq} (\`${chain.badId}\`): ${chain.reason}.`;
  const witnessLine = `${witnessFailed(verdict) ? "❌" : verdict.kind === "matches" ? "✅" : "⚠️"} ${witnessSentence(verdict)}`;
  return simpleMessage(
    `${chainLine}\n${witnessLine}`,
    report.ok ? undefined : "Entries are never updated or deleted by ghconnect; this means the database was changed outside it.",
  );
}
