// Four eyes compare GHES accounts, not login strings: a site admin can rename an account, and the
// renamed login is a new string that a second Slack account could link and pass as another
// person. GHES's user id survives renames, so a GHES link keeps the id GET /user answered with,
// and a request keeps its requester's. Rows from before have none (null): they compare logins.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  // Null on the github.com side: only GHES ids are compared.
  await db.schema.alterTable("person_links").addColumn("ghes_user_id", "integer").execute();
  // A GHES account belongs to one Slack user, under any login it has had (nulls do not collide).
  await db.schema.createIndex("person_links_ghes_account").on("person_links").columns(["side", "ghes_user_id"]).unique().execute();
  await db.schema.alterTable("approvals").addColumn("requested_by_ghes_id", "integer").execute();
  await db.schema.alterTable("native_requests").addColumn("requested_by_ghes_id", "integer").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("native_requests").dropColumn("requested_by_ghes_id").execute();
  await db.schema.alterTable("approvals").dropColumn("requested_by_ghes_id").execute();
  await db.schema.dropIndex("person_links_ghes_account").execute();
  await db.schema.alterTable("person_links").dropColumn("ghes_user_id").execute();
}
