// GHES's native GitHub Connect, as watched through its enterprise audit log: the events seen (one
// row each, keyed by GitHub's document id, so two replicas reading the same page announce each
// event once), the watcher's last look, and governed native-feature requests (their card, approval
// and how they ended: verified by an event, confirmed by a person, or not seen in time).
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("native_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    // GHES's time of the event (its clock), ISO 8601.
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("account", "text")
    // The bot's time of first seeing it.
    .addColumn("seen_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("native_watch")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("problem", "text")
    .addColumn("ok_at", "text")
    .execute();
  await db.schema
    .createTable("native_requests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("feature", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("policy", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("requested_by_slack", "text", (c) => c.notNull())
    .addColumn("requested_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("decided_by_slack", "text")
    .addColumn("decided_at", "text")
    .addColumn("settled_at", "text")
    .addColumn("settled_by", "text")
    .addColumn("channel_id", "text")
    .addColumn("message_ts", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["native_requests", "native_watch", "native_events"]) await db.schema.dropTable(table).ifExists().execute();
}
