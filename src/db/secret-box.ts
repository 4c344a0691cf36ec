// Encryption at rest for credentials: AES-256-GCM with a random 96-bit IV per value and a 16-byte
// tag. The stored form names the key it was made with (first 8 bytes of SHA-256 of the key), so a
// wrong key is reported as such instead of producing garbage, and a replica can hold two keys
// during a key change (reads with either; the repo picks the one to write with). The caller's
// additional data binds a value to its row: GCM then refuses a ciphertext moved elsewhere.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** GCM's full tag. A shorter one would make forging a ciphertext that opens far cheaper. */
const TAG_BYTES = 16;

/** The configured key(s) cannot be used with what the database holds; the message says what to set. */
export class WrongEncryptionKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WrongEncryptionKey";
  }
}

/** A stored credential that does not open under its own key: altered, truncated, or moved to another row. */
export class CredentialTampered extends Error {
  constructor(what: string, why: string) {
    super(`the stored ${what} failed its integrity check (${why}): it was altered, or copied from another row. Reconnect to replace it.`);
    this.name = "CredentialTampered";
  }
}

export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/**
 * "v2:<keyId>:<iv>:<tag>:<ciphertext>" (base64url parts), sealed with the row's additional data.
 * "v1" is the format before the additional data named the owner; it still opens (see
 * CredentialsRepo) and is rewritten as v2 on the next write or by rotate-key.
 */
export interface Envelope {
  version: 1 | 2;
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export function parseEnvelope(sealed: string): Envelope | undefined {
  const [version, storedKeyId, iv, tag, ct, extra] = sealed.split(":");
  if ((version !== "v1" && version !== "v2") || !storedKeyId || !iv || !tag || ct === undefined || extra !== undefined) return undefined;
  return {
    version: version === "v1" ? 1 : 2,
    keyId: storedKeyId,
    iv: Buffer.from(iv, "base64url"),
    tag: Buffer.from(tag, "base64url"),
    ciphertext: Buffer.from(ct, "base64url"),
  };
}

export class SecretBox {
  /** The key of GHCONNECT_ENCRYPTION_KEY. */
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** `key` is GHCONNECT_ENCRYPTION_KEY; `others` are further keys it may read and write with. */
  constructor(key: Buffer, ...others: Buffer[]) {
    for (const k of [key, ...others]) {
      if (k.length !== 32) throw new Error("the encryption key must be 32 bytes");
      this.keys.set(keyId(k), k);
    }
    this.keyId = keyId(key);
  }

  /** Ids of every key this box holds, GHCONNECT_ENCRYPTION_KEY's first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  holds(id: string): boolean {
    return this.keys.has(id);
  }

  /** Seals under the key `withKeyId` (default GHCONNECT_ENCRYPTION_KEY's), binding `additionalData`. */
  seal(plaintext: string, additionalData: string, withKeyId: string = this.keyId): string {
    const key = this.keys.get(withKeyId);
    if (!key) throw new WrongEncryptionKey(`this process does not hold the encryption key with id ${withKeyId}`);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(additionalData));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v2", withKeyId, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(":");
  }

  /**
   * Opens an envelope under the key it names. `what` names the credential in errors (never its
   * value); the additional data must be what it was sealed with.
   */
  open(envelope: Envelope, additionalData: string, what: string): string {
    const key = this.keys.get(envelope.keyId);
    if (!key)
      throw new WrongEncryptionKey(
        `the stored ${what} is encrypted with key id ${envelope.keyId}, which this process does not hold (it holds ${this.keyIds.join(", ")})`,
      );
    if (envelope.tag.length !== TAG_BYTES) throw new CredentialTampered(what, `its tag is ${envelope.tag.length} bytes, not ${TAG_BYTES}`);
    const decipher = createDecipheriv("aes-256-gcm", key, envelope.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(additionalData));
    decipher.setAuthTag(envelope.tag);
    try {
      return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]).toString("utf8");
    } catch {
      throw new CredentialTampered(what, "the tag does not match");
    }
  }
}

/** For tools that never touch credentials (audit export/verify): any use is a clear error. */
export class NoKeyBox extends SecretBox {
  constructor() {
    super(Buffer.alloc(32));
  }
  override get keyIds(): string[] {
    return [];
  }
  override holds(): boolean {
    return false;
  }
  override seal(): string {
    throw new Error("this command runs without GHCONNECT_ENCRYPTION_KEY and cannot write credentials");
  }
  override open(): string {
    throw new Error("this command runs without GHCONNECT_ENCRYPTION_KEY and cannot read credentials");
  }
}
