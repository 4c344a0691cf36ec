// Credentials, encrypted with the SecretBox. The row's id, owner and kind are bound into the
// ciphertext (AES-GCM additional data), so a value copied to another row does not decrypt.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { CredentialKind, CredentialOwner } from "../core/model.js";
import type { Database } from "./schema.js";
import type { SecretBox } from "./secret-box.js";

const context = (kind: string) => `ghconnect:credential:${kind}`;

export class CredentialsRepo {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  private owned(owner: CredentialOwner) {
    return "operationId" in owner
      ? { column: "operation_id" as const, value: owner.operationId }
      : { column: "connection_id" as const, value: owner.connectionId };
  }

  /** Stores (or replaces) one credential of the owner. */
  async put(owner: CredentialOwner, kind: CredentialKind, secret: string, expiresAt?: Date): Promise<void> {
    const { column, value } = this.owned(owner);
    await this.q.deleteFrom("credentials").where(column, "=", value).where("kind", "=", kind).execute();
    await this.q
      .insertInto("credentials")
      .values({
        id: randomUUID(),
        operation_id: column === "operation_id" ? value : null,
        connection_id: column === "connection_id" ? value : null,
        kind,
        ciphertext: this.box.seal(secret, context(kind)),
        key_id: this.box.keyId,
        expires_at: expiresAt?.toISOString() ?? null,
        created_at: this.clock().toISOString(),
      })
      .execute();
  }

  async get(owner: CredentialOwner, kind: CredentialKind): Promise<{ secret: string; expiresAt: string | null } | undefined> {
    const { column, value } = this.owned(owner);
    const row = await this.q
      .selectFrom("credentials")
      .select(["ciphertext", "expires_at"])
      .where(column, "=", value)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return row && { secret: this.box.open(row.ciphertext, context(kind)), expiresAt: row.expires_at };
  }

  /** Hands an operation's credentials to the connection it created. */
  async transfer(operationId: string, connectionId: string): Promise<number> {
    const result = await this.q
      .updateTable("credentials")
      .set({ operation_id: null, connection_id: connectionId })
      .where("operation_id", "=", operationId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Deletes every credential of the owner at once (SQLite overwrites them: secure_delete). */
  async deleteAll(owner: CredentialOwner): Promise<number> {
    const { column, value } = this.owned(owner);
    const result = await this.q.deleteFrom("credentials").where(column, "=", value).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Re-encrypts every credential under `next` (call inside a transaction); returns how many. */
  async reencrypt(next: SecretBox): Promise<number> {
    const rows = await this.q.selectFrom("credentials").select(["id", "kind", "ciphertext"]).execute();
    for (const row of rows) {
      const plain = this.box.open(row.ciphertext, context(row.kind));
      await this.q
        .updateTable("credentials")
        .set({ ciphertext: next.seal(plain, context(row.kind)), key_id: next.keyId })
        .where("id", "=", row.id)
        .execute();
    }
    return rows.length;
  }

  /** Key ids in use, to tell whether the configured key can read what is stored. */
  async keyIds(): Promise<string[]> {
    const rows = await this.q.selectFrom("credentials").select("key_id").distinct().execute();
    return rows.map((r) => r.key_id);
  }
}
