// Credentials, encrypted with the SecretBox under the recorded active key. Each ciphertext's
// AES-GCM additional data names its owner (operation or connection id), its kind and its row id,
// so a value copied into another row — another connection's, or the row that replaced an older
// credential — does not open. When credentials pass from an operation to its connection they are
// re-encrypted for their new owner in the same transaction.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { CredentialKind, CredentialOwner } from "../core/model.js";
import type { CredentialsStore } from "../core/store-ports.js";
import type { Engine } from "./database.js";
import { EncryptionKeysRepo } from "./encryption-keys-repo.js";
import type { Database } from "./schema.js";
import { CredentialTampered, parseEnvelope, type SecretBox, WrongEncryptionKey } from "./secret-box.js";

interface OwnerRef {
  kind: "operation" | "connection";
  id: string;
  column: "operation_id" | "connection_id";
}

function ownerRef(owner: CredentialOwner): OwnerRef {
  return "operationId" in owner
    ? { kind: "operation", id: owner.operationId, column: "operation_id" }
    : { kind: "connection", id: owner.connectionId, column: "connection_id" };
}

interface StoredRow {
  id: string;
  kind: string;
  ciphertext: string;
  operation_id: string | null;
  connection_id: string | null;
}

const rowOwner = (row: StoredRow): OwnerRef =>
  row.connection_id !== null
    ? { kind: "connection", id: row.connection_id, column: "connection_id" }
    : { kind: "operation", id: row.operation_id ?? "", column: "operation_id" };

/** The additional data of a v2 ciphertext: the row it belongs to. */
export const additionalData = (owner: OwnerRef, kind: string, rowId: string) => `ghconnect:v2:${owner.kind}:${owner.id}:${kind}:${rowId}`;
/** What v1 ciphertexts (before v2) were bound to: their kind only. */
const legacyAdditionalData = (kind: string) => `ghconnect:credential:${kind}`;

export class CredentialsRepo implements CredentialsStore {
  private readonly q: Kysely<Database>;
  private readonly engine: Engine;
  private readonly clock: Clock;
  private readonly box: SecretBox;

  constructor(deps: { q: Kysely<Database>; engine: Engine; clock: Clock; box: SecretBox }) {
    this.q = deps.q;
    this.engine = deps.engine;
    this.clock = deps.clock;
    this.box = deps.box;
  }

  private keys(q: Kysely<Database> = this.q) {
    return new EncryptionKeysRepo(q, this.engine, this.clock);
  }

  /** Runs fn in the caller's transaction, or in one of its own (a write and its key lookup are one unit). */
  private inTransaction<T>(fn: (q: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.q.isTransaction ? fn(this.q) : this.q.transaction().execute(fn);
  }

  /** The key to write with: the active one, which this replica must hold. The row stays locked until commit. */
  private async writeKey(q: Kysely<Database>): Promise<string> {
    const keys = this.keys(q);
    const active = (await keys.active({ lock: true })) ?? (await keys.recordIfNone(this.box.keyId));
    if (!this.box.holds(active.keyId))
      throw new WrongEncryptionKey(
        `the active encryption key is ${active.keyId} since ${active.since}, which this replica was not given (it holds ${this.box.keyIds.join(", ")}): restart it with GHCONNECT_ENCRYPTION_KEY set to the new key`,
      );
    return active.keyId;
  }

  /** Opens a stored row; v1 rows open only under the active key (they predate every rotation). */
  private async open(q: Kysely<Database>, row: StoredRow): Promise<string> {
    const owner = rowOwner(row);
    const what = `${row.kind} of ${owner.kind} ${owner.id}`;
    const envelope = parseEnvelope(row.ciphertext);
    if (!envelope) throw new CredentialTampered(what, "it is not in a format this version can read");
    if (envelope.version === 2) return this.box.open(envelope, additionalData(owner, row.kind, row.id), what);
    const active = await this.keys(q).active();
    if (active && envelope.keyId !== active.keyId)
      throw new CredentialTampered(what, "it is in the format before v2 under a key that is no longer active");
    return this.box.open(envelope, legacyAdditionalData(row.kind), what);
  }

  /** Stores (or replaces) one credential of the owner. */
  async put(owner: CredentialOwner, kind: CredentialKind, secret: string, expiresAt?: Date): Promise<void> {
    const ref = ownerRef(owner);
    await this.inTransaction(async (q) => {
      const keyId = await this.writeKey(q);
      await q.deleteFrom("credentials").where(ref.column, "=", ref.id).where("kind", "=", kind).execute();
      const id = randomUUID();
      await q
        .insertInto("credentials")
        .values({
          id,
          operation_id: ref.kind === "operation" ? ref.id : null,
          connection_id: ref.kind === "connection" ? ref.id : null,
          kind,
          ciphertext: this.box.seal(secret, additionalData(ref, kind, id), keyId),
          key_id: keyId,
          expires_at: expiresAt?.toISOString() ?? null,
          created_at: this.clock().toISOString(),
        })
        .execute();
    });
  }

  async get(owner: CredentialOwner, kind: CredentialKind): Promise<{ secret: string; expiresAt: string | null } | undefined> {
    const ref = ownerRef(owner);
    const row = await this.q
      .selectFrom("credentials")
      .select(["id", "kind", "ciphertext", "operation_id", "connection_id", "expires_at"])
      .where(ref.column, "=", ref.id)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return row && { secret: await this.open(this.q, row), expiresAt: row.expires_at };
  }

  /** Hands an operation's credentials to the connection it created, re-encrypted for their new owner. */
  async transfer(operationId: string, connectionId: string): Promise<number> {
    const to: OwnerRef = { kind: "connection", id: connectionId, column: "connection_id" };
    return this.inTransaction(async (q) => {
      const keyId = await this.writeKey(q);
      const rows = await q
        .selectFrom("credentials")
        .select(["id", "kind", "ciphertext", "operation_id", "connection_id"])
        .where("operation_id", "=", operationId)
        .execute();
      for (const row of rows) {
        const plain = await this.open(q, row);
        await q
          .updateTable("credentials")
          .set({
            operation_id: null,
            connection_id: connectionId,
            ciphertext: this.box.seal(plain, additionalData(to, row.kind, row.id), keyId),
            key_id: keyId,
          })
          .where("id", "=", row.id)
          .execute();
      }
      return rows.length;
    });
  }

  /** Deletes every credential of the owner at once (SQLite overwrites them: secure_delete). */
  async deleteAll(owner: CredentialOwner): Promise<number> {
    const { column, id } = ownerRef(owner);
    const result = await this.q.deleteFrom("credentials").where(column, "=", id).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Re-encrypts every credential as v2 under `keyId` (call inside the rotation's transaction,
   * before the active key changes: v1 rows open under the active key only). Returns how many, and
   * how many of them were v1.
   */
  async reencryptAll(keyId: string): Promise<{ count: number; upgraded: number }> {
    const rows = await this.q.selectFrom("credentials").select(["id", "kind", "ciphertext", "operation_id", "connection_id"]).execute();
    let upgraded = 0;
    for (const row of rows) {
      if (row.ciphertext.startsWith("v1:")) upgraded++;
      const plain = await this.open(this.q, row);
      await this.q
        .updateTable("credentials")
        .set({ ciphertext: this.box.seal(plain, additionalData(rowOwner(row), row.kind, row.id), keyId), key_id: keyId })
        .where("id", "=", row.id)
        .execute();
    }
    return { count: rows.length, upgraded };
  }

  /**
   * Rewrites every credential still in the format before v2 (bound to its kind only, so a copy
   * into another row of the same kind would open) as v2, bound to its row, in one transaction.
   * Run at start-up: after the first start of this version no such row is left to copy. Returns
   * how many rows were rewritten.
   */
  async upgradeLegacy(): Promise<number> {
    return this.inTransaction(async (q) => {
      const rows = await q
        .selectFrom("credentials")
        .select(["id", "kind", "ciphertext", "operation_id", "connection_id"])
        .where("ciphertext", "like", "v1:%")
        .execute();
      if (rows.length === 0) return 0;
      const keyId = await this.writeKey(q);
      for (const row of rows) {
        const plain = await this.open(q, row);
        await q
          .updateTable("credentials")
          .set({ ciphertext: this.box.seal(plain, additionalData(rowOwner(row), row.kind, row.id), keyId), key_id: keyId })
          .where("id", "=", row.id)
          .where("ciphertext", "=", row.ciphertext)
          .execute();
      }
      return rows.length;
    });
  }

  /** Key ids in use, to tell whether the configured keys can read what is stored. */
  async keyIds(): Promise<string[]> {
    const rows = await this.q.selectFrom("credentials").select("key_id").distinct().execute();
    return rows.map((r) => r.key_id);
  }
}
