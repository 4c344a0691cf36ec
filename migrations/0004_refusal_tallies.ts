// Refused requests to the unauthenticated pages (setup, callback, manifest) are tallied here, one
// row per kind of refusal, so a flood of forged requests grows a counter rather than the audit
// trail: at most one audit entry per kind a minute, carrying how many refusals it stands for.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("refusal_tallies")
    // SHA-256 of the action, target and details: one row per page and reason.
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target", "text")
    .addColumn("details", "text", (c) => c.notNull())
    // Refusals not yet stood for by an audit entry.
    .addColumn("pending", "integer", (c) => c.notNull())
    .addColumn("first_pending_at", "text")
    // When the last audit entry for this kind was written (null: never).
    .addColumn("audited_at", "text")
    // What that entry stood for: set from the row's old values by the same UPDATE that resets it.
    .addColumn("audited_count", "integer")
    .addColumn("audited_since", "text")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("refusal_tallies").ifExists().execute();
}
