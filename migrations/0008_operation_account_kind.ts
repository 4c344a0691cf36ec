// An enable operation knows which kind of account it connects: an organization (the manifest
// flow) or an enterprise account (a registration by hand, then credentials on the bot's form).
// Existing rows were all organizations, hence the default. An enterprise connection also keeps
// the organizations its app is installed on (JSON list), so `status` shows them from the database
// and the periodic check notices one added or removed.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("operations")
    .addColumn("account_kind", "text", (c) => c.notNull().defaultTo("organization"))
    .execute();
  await db.schema.alterTable("connections").addColumn("installed_on", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("connections").dropColumn("installed_on").execute();
  await db.schema.alterTable("operations").dropColumn("account_kind").execute();
}
