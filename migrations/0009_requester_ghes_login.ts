// Four eyes are two people, not two Slack accounts: an approval keeps the GHES login the requester
// proved when they asked (their roster entry at that moment), and a click is compared with it,
// so removing or relinking the requester's entry meanwhile cannot let the same person approve
// from a second Slack account. Existing rows have none (null): they fall back to the roster.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("approvals").addColumn("requested_by_ghes", "text").execute();
  await db.schema.alterTable("native_requests").addColumn("requested_by_ghes", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("native_requests").dropColumn("requested_by_ghes").execute();
  await db.schema.alterTable("approvals").dropColumn("requested_by_ghes").execute();
}
