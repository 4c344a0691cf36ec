// Which encryption key is in force. Every replica writes credentials under the recorded active
// key (not simply under the key it was started with), so during a key change replicas restarted
// with the new key and those not yet restarted keep reading each other's writes; rotate-key
// switches the active key in the same transaction that re-encrypts every row.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Engine } from "./database.js";
import type { Database } from "./schema.js";
import { type SecretBox, WrongEncryptionKey } from "./secret-box.js";

export interface ActiveKey {
  keyId: string;
  since: string;
}

const SLOT = "active";

export class EncryptionKeysRepo {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly engine: Engine,
    private readonly clock: Clock,
  ) {}

  /**
   * The active key. With `lock` (inside a transaction) the row stays locked until commit on
   * PostgreSQL, so a write and a rotation never interleave; SQLite's BEGIN IMMEDIATE already
   * serializes writers.
   */
  async active(options: { lock?: boolean } = {}): Promise<ActiveKey | undefined> {
    let query = this.q.selectFrom("active_encryption_key").select(["key_id", "since"]).where("slot", "=", SLOT);
    if (options.lock && this.engine === "postgres") query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && { keyId: row.key_id, since: row.since };
  }

  /** Records `keyId` as active if no key is recorded yet (a new database); returns the active key. */
  async recordIfNone(keyId: string): Promise<ActiveKey> {
    const now = this.clock().toISOString();
    await this.q
      .insertInto("active_encryption_key")
      .values({ slot: SLOT, key_id: keyId, since: now })
      .onConflict((oc) => oc.column("slot").doNothing())
      .execute();
    const active = (await this.active()) as ActiveKey;
    await this.q
      .insertInto("encryption_keys")
      .values({ key_id: active.keyId, activated_at: active.since, retired_at: null })
      .onConflict((oc) => oc.column("key_id").doNothing())
      .execute();
    return active;
  }

  /** Makes `keyId` the active key and retires the one it replaces (call inside the rotation's transaction). */
  async activate(keyId: string): Promise<ActiveKey> {
    const now = this.clock().toISOString();
    const previous = await this.active({ lock: true });
    if (previous?.keyId === keyId) return previous;
    if (previous) await this.q.updateTable("encryption_keys").set({ retired_at: now }).where("key_id", "=", previous.keyId).execute();
    await this.q
      .insertInto("active_encryption_key")
      .values({ slot: SLOT, key_id: keyId, since: now })
      .onConflict((oc) => oc.column("slot").doUpdateSet({ key_id: keyId, since: now }))
      .execute();
    await this.q
      .insertInto("encryption_keys")
      .values({ key_id: keyId, activated_at: now, retired_at: null })
      .onConflict((oc) => oc.column("key_id").doUpdateSet({ activated_at: now, retired_at: null }))
      .execute();
    return { keyId, since: now };
  }

  /** When `keyId` was retired, if it ever was active and is no longer. */
  async retiredAt(keyId: string): Promise<string | undefined> {
    const row = await this.q
      .selectFrom("encryption_keys")
      .select("retired_at")
      .where("key_id", "=", keyId)
      .where("retired_at", "is not", null)
      .executeTakeFirst();
    return row?.retired_at ?? undefined;
  }

  /**
   * Start-up: the keys this replica was given must include the active one (recording it on a new
   * database). Otherwise throws WrongEncryptionKey with the one line an operator reads.
   */
  async admit(box: SecretBox, storedKeyIds: string[]): Promise<ActiveKey> {
    return (await this.assess(box, storedKeyIds)) ?? this.recordIfNone(storedKeyIds[0] ?? box.keyId);
  }

  /**
   * What admit decides, writing nothing (`ghconnect check`): the active key when the given keys
   * hold it, undefined on a database with no key recorded yet, else throws WrongEncryptionKey.
   */
  async assess(box: SecretBox, storedKeyIds: string[]): Promise<ActiveKey | undefined> {
    const known = await this.active();
    if (!known) {
      // A database with no recorded key: credentials there (if any) must be readable.
      const foreign = storedKeyIds.find((id) => !box.holds(id));
      if (foreign)
        throw new WrongEncryptionKey(
          `GHCONNECT_ENCRYPTION_KEY (id ${box.keyId}) is not the key the stored credentials are encrypted with (id ${foreign}). Set it to that key.`,
        );
      return undefined;
    }
    if (!box.holds(known.keyId)) {
      const retired = await this.retiredAt(box.keyId);
      if (retired)
        throw new WrongEncryptionKey(
          `GHCONNECT_ENCRYPTION_KEY is ${retired === known.since ? "the previous key" : `a retired key (retired ${retired})`} (id ${box.keyId}); the active key is ${known.keyId} since ${known.since}. Set it to the new key.`,
        );
      const [, previous] = box.keyIds;
      const given = previous
        ? `neither GHCONNECT_ENCRYPTION_KEY (id ${box.keyId}) nor GHCONNECT_PREVIOUS_ENCRYPTION_KEY (id ${previous}) is`
        : `GHCONNECT_ENCRYPTION_KEY (id ${box.keyId}) is not`;
      throw new WrongEncryptionKey(
        `${given} the active key (id ${known.keyId} since ${known.since}) or a previous one. Set GHCONNECT_ENCRYPTION_KEY to the active key (during a key change: to the new key, with the active one in GHCONNECT_PREVIOUS_ENCRYPTION_KEY).`,
      );
    }
    const foreign = storedKeyIds.find((id) => !box.holds(id));
    if (foreign)
      throw new WrongEncryptionKey(
        `a stored credential is encrypted with key id ${foreign}, which is neither the active key (id ${known.keyId} since ${known.since}) nor another key given to this replica: it was restored from an older backup or altered. Reconnect, or restore the database that goes with the active key.`,
      );
    return known;
  }
}
