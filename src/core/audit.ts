// The tamper-evident audit trail (SPEC §5). Each entry's hash covers the previous entry's hash
// and the canonical JSON of the entry itself, so changing, removing or reordering any stored
// entry breaks every hash after it. Storage lives behind AuditStore; this file only decides.
import { createHash, randomUUID } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

export interface Actor {
  slack?: string | null;
  ghes?: string | null;
  github?: string | null;
}

export type Outcome = "ok" | "refused" | "failed" | "pending";

export interface AuditInput {
  actor: Actor;
  action: string;
  target?: string | null;
  outcome: Outcome;
  details?: Record<string, unknown>;
}

/** An entry exactly as stored and as exported. */
export interface AuditEntry {
  seq: number;
  id: string;
  at: string;
  actor_slack: string | null;
  actor_ghes: string | null;
  actor_github: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** JSON with object keys sorted at every level: the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  // A plain loop: every command's entry is hashed, and this ran as a chain of arrays per object.
  let out = "";
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v !== undefined) out += `${out ? "," : ""}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

/** SHA-256(prev_hash ‖ canonical JSON of the entry without its hash), hex. */
export function entryHash(entry: Omit<AuditEntry, "hash">): string {
  const { prev_hash, ...body } = entry;
  return createHash("sha256").update(prev_hash).update(canonicalJson(body)).digest("hex");
}

const SECRET_KEY = /(token|secret|pem|private|password|key|code|state|authorization|cookie)/i;
const SECRET_VALUE = /(-----BEGIN [A-Z ]*PRIVATE KEY-----|\bgh[opsu]_[A-Za-z0-9]{20,}|\bghs_|\bxox[abp]-|\bv1\.[0-9a-f]{40})/;

const PUBLIC_KEYS = /^(key_id|(from|to|active)_key_id|given_key_ids|public_key_fingerprint|license_hash|license_key_fingerprint)$/;

/**
 * Audit details never carry secrets: keys that name one, or values that look like one, are
 * replaced, at any depth, inside objects and arrays alike (a list of apps or hosts can carry a
 * token as well as a single field can).
 */
export function scrubDetails(details: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    out[storable(key)] = SECRET_KEY.test(key) && !PUBLIC_KEYS.test(key) ? "[redacted]" : scrubValue(value);
  }
  return out;
}

function scrubValue(value: unknown): unknown {
  if (typeof value === "string") return SECRET_VALUE.test(value) ? "[redacted]" : storable(value);
  // What JSON makes of it (a Date: its ISO string). Taken apart as an object, a Date has no keys
  // of its own and was recorded as {}.
  if (value && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function")
    return scrubValue((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value && typeof value === "object") return scrubDetails(value as Record<string, unknown>);
  return value;
}

/**
 * A string as both databases store it, so what is hashed is what is stored: a lone UTF-16
 * surrogate (a JSON payload from Slack can carry one) and NUL (PostgreSQL's text cannot hold it)
 * become U+FFFD. Stored otherwise, the entry would differ from the hashed one and verify as
 * tampered with, or not be stored at all.
 */
export function storable(value: string): string;
export function storable(value: string | null | undefined): string | null;
export function storable(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  // Nearly every string is already storable: checking is cheaper than copying (every command's
  // entry passes six of them through here).
  return value.isWellFormed() && !value.includes("\0") ? value : value.toWellFormed().replaceAll("\0", "\ufffd");
}

/** Builds the next entry of the chain after `previous` (or the first one), its strings storable. */
export function nextEntry(
  input: AuditInput,
  previous: Pick<AuditEntry, "seq" | "hash"> | undefined,
  now: Date,
  id: string = randomUUID(),
): AuditEntry {
  const body: Omit<AuditEntry, "hash"> = {
    seq: (previous?.seq ?? 0) + 1,
    id,
    at: now.toISOString(),
    actor_slack: storable(input.actor.slack),
    actor_ghes: storable(input.actor.ghes),
    actor_github: storable(input.actor.github),
    action: storable(input.action),
    target: storable(input.target),
    outcome: input.outcome,
    details: scrubDetails(input.details),
    prev_hash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...body, hash: newEntryHash(body) };
}

/**
 * entryHash for an entry nextEntry has just built, whose keys are exactly AuditEntry's: the same
 * canonical JSON, written in sorted key order without sorting (a test holds the two equal).
 * Verification keeps the general entryHash, so a key added to a stored entry still breaks it.
 */
function newEntryHash(body: Omit<AuditEntry, "hash">): string {
  const json =
    `{"action":${JSON.stringify(body.action)},"actor_ghes":${JSON.stringify(body.actor_ghes)},` +
    `"actor_github":${JSON.stringify(body.actor_github)},"actor_slack":${JSON.stringify(body.actor_slack)},` +
    `"at":${JSON.stringify(body.at)},"details":${canonicalJson(body.details)},"id":${JSON.stringify(body.id)},` +
    `"outcome":${JSON.stringify(body.outcome)},"seq":${JSON.stringify(body.seq)},"target":${JSON.stringify(body.target)}}`;
  return createHash("sha256").update(body.prev_hash).update(json).digest("hex");
}

export type VerifyResult =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; badSeq: number; badId: string; reason: string };

/**
 * Recomputes the chain, in order, and names the first entry that does not match. A partial export
 * (`--since`) is verified as a segment: it must link to `from.hash` of the entry before it, which
 * the caller takes from a full export or the database.
 */
export function verifyChain(entries: Iterable<AuditEntry>, from?: { seq: number; hash: string }): VerifyResult {
  let prevHash = from?.hash ?? GENESIS_HASH;
  let expectedSeq = (from?.seq ?? 0) + 1;
  let count = 0;
  for (const entry of entries) {
    count++;
    const bad = (reason: string): VerifyResult => ({ ok: false, count, badSeq: entry.seq, badId: entry.id, reason });
    if (entry.seq !== expectedSeq) {
      return bad(
        entry.seq > expectedSeq
          ? `entry #${expectedSeq}${entry.seq - expectedSeq > 1 ? `–#${entry.seq - 1}` : ""} is missing before it`
          : `it is out of order (expected #${expectedSeq})`,
      );
    }
    if (entry.prev_hash !== prevHash) return bad("its prev_hash does not match the hash of the entry before it");
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash) return bad("its contents do not match its hash (the entry was changed)");
    prevHash = hash;
    expectedSeq++;
  }
  return { ok: true, count, head: prevHash };
}

/** Where entries are kept; appends are serialized and run inside the caller's transaction. */
export interface AuditStore {
  append(input: AuditInput): Promise<AuditEntry>;
}
