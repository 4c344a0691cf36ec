// Encryption at rest for credentials: AES-256-GCM with a random 96-bit IV per value. The stored
// form names the key it was made with (first 8 bytes of SHA-256 of the key), so a wrong key is
// reported as such instead of producing garbage, and rotate-key can tell old rows from new.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export class WrongEncryptionKey extends Error {
  constructor(readonly storedKeyId: string) {
    super(
      `stored credentials were encrypted with another key (key id ${storedKeyId}); GHCONNECT_ENCRYPTION_KEY is not the key they were written with. Restore the right key, or run \`ghconnect rotate-key\` with both keys.`,
    );
    this.name = "WrongEncryptionKey";
  }
}

export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("the encryption key must be 32 bytes");
    this.keyId = keyId(key);
  }

  /** "v1:<keyId>:<iv>:<tag>:<ciphertext>", base64url parts. `context` binds the value to its row. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", this.keyId, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(":");
  }

  open(sealed: string, context: string): string {
    const [version, storedKeyId, iv, tag, ct] = sealed.split(":");
    if (version !== "v1" || !storedKeyId || !iv || !tag || ct === undefined)
      throw new Error("a stored credential is not in a format this version can read");
    if (storedKeyId !== this.keyId) throw new WrongEncryptionKey(storedKeyId);
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("a stored credential failed its integrity check (it was altered, or moved to another row)");
    }
  }
}

/** For tools that never touch credentials (audit export/verify): any use is a clear error. */
export class NoKeyBox extends SecretBox {
  constructor() {
    super(Buffer.alloc(32));
  }
  override seal(): string {
    throw new Error("this command runs without GHCONNECT_ENCRYPTION_KEY and cannot write credentials");
  }
  override open(): string {
    throw new Error("this command runs without GHCONNECT_ENCRYPTION_KEY and cannot read credentials");
  }
}
