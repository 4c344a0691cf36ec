// The encryption key in force is recorded in the database, so every replica can tell whether the
// key it was started with is the active one, a retired one, or unknown, and which key to write
// with during a key change. `active_encryption_key` is one row that rotate-key updates in place
// (PostgreSQL's row lock on it orders a rotation against concurrent writes); `encryption_keys` keeps
// every key id that was ever active, with when it was retired.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("active_encryption_key")
    .addColumn("slot", "text", (c) => c.primaryKey())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("since", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("encryption_keys")
    .addColumn("key_id", "text", (c) => c.primaryKey())
    .addColumn("activated_at", "text", (c) => c.notNull())
    .addColumn("retired_at", "text")
    .execute();
  // A database that already holds credentials: they are all under one key (the only one it ever
  // had, since rotations were single transactions), which becomes the recorded active key.
  const ids = await db.selectFrom("credentials").select("key_id").distinct().execute();
  if (ids.length === 1) {
    const now = new Date().toISOString();
    const id = ids[0]?.key_id as string;
    await db.insertInto("active_encryption_key").values({ slot: "active", key_id: id, since: now }).execute();
    await db.insertInto("encryption_keys").values({ key_id: id, activated_at: now, retired_at: null }).execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("encryption_keys").ifExists().execute();
  await db.schema.dropTable("active_encryption_key").ifExists().execute();
}
