// An enterprise connection re-homes (moves to another installation of its app) only to an
// installation a proven enterprise owner's install flow left: GitHub's installation objects do
// not say who installed them, and an owner of one organization may install an enterprise's app.
// `trusted_installations` is the JSON list of installation ids on the connection's list when it
// was completed; `installation_lost_at` is when its own installation went with none of those left
// (status says what an owner does). Existing connections have none (null): they do not re-home.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("connections").addColumn("trusted_installations", "text").execute();
  await db.schema.alterTable("connections").addColumn("installation_lost_at", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("connections").dropColumn("installation_lost_at").execute();
  await db.schema.alterTable("connections").dropColumn("trusted_installations").execute();
}
