// Columns the enable flow needs beyond 0001: where the operation's card lives in the admin
// channel, the connection's last notified token-refresh failure, and the GitHub web URL of the
// app at the time (for links after the credentials are gone).
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("operations").addColumn("card_channel", "text").execute();
  await db.schema.alterTable("operations").addColumn("card_ts", "text").execute();
  await db.schema.alterTable("connections").addColumn("token_expires_at", "text").execute();
  await db.schema.alterTable("connections").addColumn("token_refresh_failed_at", "text").execute();
  await db.schema.alterTable("connections").addColumn("app_settings_url", "text").execute();
  await db.schema.alterTable("connections").addColumn("operation_id", "text").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const [table, column] of [
    ["operations", "card_channel"],
    ["operations", "card_ts"],
    ["connections", "token_expires_at"],
    ["connections", "token_refresh_failed_at"],
    ["connections", "app_settings_url"],
    ["connections", "operation_id"],
  ] as const) {
    await db.schema.alterTable(table).dropColumn(column).execute();
  }
}
