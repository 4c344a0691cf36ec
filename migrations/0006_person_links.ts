// A person's proven accounts: the GHES login and the github.com account a Slack user signed in
// as (`/ghconnect link`), with their user tokens sealed like every credential. One row per Slack
// user and side; a login belongs to at most one Slack user per side (the unique login_key).
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("person_links")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("slack_user_id", "text", (c) => c.notNull())
    // "ghes" or "github"
    .addColumn("side", "text", (c) => c.notNull())
    .addColumn("login", "text", (c) => c.notNull())
    // The login lowercased: GitHub logins are case-insensitive, and one belongs to one person.
    .addColumn("login_key", "text", (c) => c.notNull())
    // The github.com side is the connected app's authorization, so it lives with the connection.
    .addColumn("connection_id", "text")
    .addColumn("token_ciphertext", "text", (c) => c.notNull())
    .addColumn("refresh_ciphertext", "text")
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("refresh_expires_at", "text")
    // "active", or "expired" once GitHub refused to refresh it (the person must link again).
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("linked_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("person_links_person_side").on("person_links").columns(["slack_user_id", "side"]).unique().execute();
  await db.schema.createIndex("person_links_login_side").on("person_links").columns(["side", "login_key"]).unique().execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("person_links").ifExists().execute();
}
