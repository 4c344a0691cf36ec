// The signed head that ends an audit export (SPEC §5). The hash chain proves an export's entries
// are unchanged and in order, but not that it is complete: cutting the newest lines off leaves a
// valid chain. The last line states the range exported, its last hash and how many entries it
// holds, signed with Ed25519, so a file cut short or edited after export no longer verifies.
// The key is derived from the bot's own secret (or given separately), so every replica and the
// CLI sign with the same key and an auditor pins one public key.
import { createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject, sign, verify } from "node:crypto";
import { type AuditEntry, canonicalJson, GENESIS_HASH, type VerifyResult, verifyChain } from "./audit.js";

export const HEAD_TYPE = "ghconnect.audit.head";
/** Fixed HKDF info: the signing key is bound to this purpose, never reusable as the encryption key. */
const HKDF_INFO = "ghconnect audit export signing key v1";
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

export interface AuditHead {
  type: typeof HEAD_TYPE;
  /** The first exported entry, and the hash it links to (all zeros for entry 1). */
  first_seq: number | null;
  from_hash: string;
  /** The last exported entry. */
  seq: number;
  hash: string;
  count: number;
  exported_at: string;
  /** Ed25519 public key, raw 32 bytes in base64. */
  public_key: string;
  /** Ed25519 signature of the canonical JSON of every other field, base64. */
  signature: string;
}

/** A key source that is missing or malformed; the sentence names the variable. */
export class SigningKeyProblem extends Error {}

/**
 * The export signing key: GHCONNECT_AUDIT_SIGNING_KEY (a 32-byte Ed25519 seed, base64) when set,
 * else HKDF-SHA256 of GHCONNECT_ENCRYPTION_KEY with a fixed info string.
 */
export function exportSigningKey(source: { signingKey?: string; encryptionKey?: string }): KeyObject {
  let seed: Buffer;
  if (source.signingKey) {
    seed = Buffer.from(source.signingKey, "base64");
    if (seed.length !== 32)
      throw new SigningKeyProblem("GHCONNECT_AUDIT_SIGNING_KEY should be 32 random bytes in base64 (openssl rand -base64 32)");
  } else if (source.encryptionKey) {
    const ikm = Buffer.from(source.encryptionKey, "base64");
    if (ikm.length !== 32)
      throw new SigningKeyProblem("GHCONNECT_ENCRYPTION_KEY should be 32 random bytes in base64 (openssl rand -base64 32)");
    seed = Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), HKDF_INFO, 32));
  } else {
    throw new SigningKeyProblem(
      "the export's head is signed with a key derived from the bot's encryption key: set GHCONNECT_ENCRYPTION_KEY to the bot's key (or GHCONNECT_AUDIT_SIGNING_KEY, if the bot is given one)",
    );
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
}

/** The raw public key in base64, what an auditor pins. */
export function publicKeyText(key: KeyObject): string {
  return createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

/** A short, comparable form of a public key: SHA256:… of its raw bytes. */
export function keyFingerprint(publicKey: string): string {
  return `SHA256:${createHash("sha256").update(Buffer.from(publicKey, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** The head line for the exported entries (the first and last are enough; count is how many). */
export function signHead(params: {
  first?: Pick<AuditEntry, "seq" | "prev_hash">;
  last?: Pick<AuditEntry, "seq" | "hash">;
  count: number;
  now: Date;
  key: KeyObject;
}): AuditHead {
  const { first, last, count, now, key } = params;
  const body: Omit<AuditHead, "signature"> = {
    type: HEAD_TYPE,
    first_seq: first?.seq ?? null,
    from_hash: first?.prev_hash ?? GENESIS_HASH,
    seq: last?.seq ?? 0,
    hash: last?.hash ?? GENESIS_HASH,
    count,
    exported_at: now.toISOString(),
    public_key: publicKeyText(key),
  };
  return { ...body, signature: sign(null, Buffer.from(canonicalJson(body)), key).toString("base64") };
}

function headSignatureHolds(head: AuditHead): boolean {
  try {
    const { signature, ...body } = head;
    const raw = Buffer.from(String(head.public_key), "base64");
    if (raw.length !== 32) return false;
    const pub = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: "der", type: "spki" });
    return verify(null, Buffer.from(canonicalJson(body)), pub, Buffer.from(String(signature), "base64"));
  } catch {
    return false;
  }
}

export type ExportVerdict =
  | { ok: true; count: number; head: AuditHead; pinned: boolean }
  /** `refused`: the file cannot be checked as given (not from entry 1); otherwise it was changed. */
  | { ok: false; refused?: boolean; message: string };

/**
 * Checks an export alone: the chain from entry 1 (or from `fromHash`, the hash of the entry
 * before the file's first), then the signed head against the last entry and the count.
 */
export function verifyExport(lines: string[], options: { fromHash?: string; publicKey?: string; file: string }): ExportVerdict {
  const entries: AuditEntry[] = [];
  let head: AuditHead | undefined;
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, message: `line ${i + 1} of ${options.file} is not JSON: the export is damaged` };
    }
    if (head)
      return { ok: false, message: `line ${i + 1} of ${options.file} comes after the signed head: the file was changed after export` };
    if ((value as { type?: unknown }).type === HEAD_TYPE) head = value as AuditHead;
    else entries.push(value as AuditEntry);
  }
  const first = entries[0];
  if (first && first.seq !== 1 && !options.fromHash) {
    return {
      ok: false,
      refused: true,
      message: `${options.file} starts at entry #${first.seq}, not #1: give --from-hash HASH, the full 64-hex hash of entry #${first.seq - 1}: the "hash" of the head line (the last line) of the export that ended at #${first.seq - 1}, or the head hash \`ghconnect audit verify\` printed when #${first.seq - 1} was the newest entry, to check it as a continuation`,
    };
  }
  if (options.fromHash && !/^[0-9a-f]{64}$/.test(options.fromHash)) {
    return { ok: false, refused: true, message: "--from-hash should be an entry's hash: 64 hex characters" };
  }
  const chain: VerifyResult = verifyChain(entries, first && options.fromHash ? { seq: first.seq - 1, hash: options.fromHash } : undefined);
  if (!chain.ok) {
    return {
      ok: false,
      message:
        first && options.fromHash && chain.badSeq === first.seq && first.prev_hash !== options.fromHash
          ? `entry #${first.seq} does not follow --from-hash ${options.fromHash.slice(0, 12)}…: it links to ${first.prev_hash.slice(0, 12)}…`
          : `chain BROKEN at entry #${chain.badSeq} (${chain.badId}): ${chain.reason}`,
    };
  }
  if (!head) {
    return {
      ok: false,
      message: `${options.file} has no signed head: it was cut short, or exported before exports were signed. Export it again with \`ghconnect audit export\``,
    };
  }
  if (!headSignatureHolds(head)) return { ok: false, message: "the signed head does not verify: the file was changed after export" };
  if (options.publicKey && options.publicKey !== head.public_key) {
    return {
      ok: false,
      message: `the head is signed by key ${keyFingerprint(head.public_key)}, not by the pinned ${keyFingerprint(options.publicKey)}`,
    };
  }
  const last = entries[entries.length - 1];
  const expected = { first_seq: first?.seq ?? null, seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS_HASH, count: entries.length };
  const fromHash = first?.prev_hash ?? GENESIS_HASH;
  if (
    head.count !== expected.count ||
    head.seq !== expected.seq ||
    head.hash !== expected.hash ||
    head.first_seq !== expected.first_seq ||
    head.from_hash !== fromHash
  ) {
    return {
      ok: false,
      message: `the signed head names ${head.count} entries ending at #${head.seq} (${head.hash.slice(0, 12)}…), but the file holds ${expected.count} ending at #${expected.seq} (${expected.hash.slice(0, 12)}…): entries were removed or changed after export`,
    };
  }
  return { ok: true, count: entries.length, head, pinned: Boolean(options.publicKey) };
}
