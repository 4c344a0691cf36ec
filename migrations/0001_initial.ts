// The tables of SPEC §6. Portable between SQLite and PostgreSQL: times are ISO-8601 text (UTC),
// booleans are integers, JSON is text. Never edit this file once landed; add a new migration.
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("admins")
    .addColumn("slack_user_id", "text", (c) => c.primaryKey())
    .addColumn("ghes_login", "text", (c) => c.notNull())
    .addColumn("added_by", "text", (c) => c.notNull())
    .addColumn("added_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("connections")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_kind", "text", (c) => c.notNull())
    .addColumn("account_login", "text", (c) => c.notNull())
    .addColumn("account_id", "integer")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("app_id", "integer")
    .addColumn("app_slug", "text")
    .addColumn("app_name", "text")
    .addColumn("app_client_id", "text")
    .addColumn("installation_id", "integer")
    .addColumn("ghes_hostname", "text", (c) => c.notNull())
    .addColumn("ghes_version", "text", (c) => c.notNull())
    .addColumn("license_customer_name", "text", (c) => c.notNull())
    .addColumn("license_public_key", "text", (c) => c.notNull())
    .addColumn("license_hash", "text", (c) => c.notNull())
    .addColumn("license_expires_at", "text")
    .addColumn("connected_by_slack", "text", (c) => c.notNull())
    .addColumn("connected_by_ghes", "text", (c) => c.notNull())
    .addColumn("connected_by_github", "text", (c) => c.notNull())
    .addColumn("connected_at", "text", (c) => c.notNull())
    .addColumn("disconnected_at", "text")
    .addColumn("disconnected_by_slack", "text")
    .addColumn("registration_deleted_at", "text")
    .addColumn("last_checked_at", "text")
    .addColumn("last_github_ok_at", "text")
    .addColumn("ghes_version_now", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    // 1 while active, NULL otherwise: the unique index allows at most one active connection.
    .addColumn("active", "integer")
    .execute();
  await db.schema.createIndex("connections_one_active").on("connections").column("active").unique().execute();

  await db.schema
    .createTable("operations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("account_login", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("requested_by_slack", "text", (c) => c.notNull())
    .addColumn("requested_by_ghes", "text")
    .addColumn("channel_id", "text")
    .addColumn("response_url", "text")
    .addColumn("message_ts", "text")
    .addColumn("app_name", "text")
    .addColumn("app_id", "integer")
    .addColumn("app_slug", "text")
    .addColumn("app_client_id", "text")
    .addColumn("app_owner", "text")
    .addColumn("github_login", "text")
    .addColumn("installation_id", "integer")
    .addColumn("addendum_version", "text")
    .addColumn("addendum_accepted_at", "text")
    .addColumn("preflight", "text")
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    // 1 while the operation is in flight, NULL once it ends: one in-flight operation per server.
    .addColumn("in_flight", "integer")
    .execute();
  await db.schema.createIndex("operations_one_in_flight").on("operations").column("in_flight").unique().execute();

  await db.schema
    .createTable("credentials")
    .addColumn("id", "text", (c) => c.primaryKey())
    // Credentials belong to an operation until the connection exists, then to the connection.
    .addColumn("operation_id", "text")
    .addColumn("connection_id", "text")
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("ciphertext", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("credentials_owner_kind").on("credentials").columns(["operation_id", "connection_id", "kind"]).execute();

  await db.schema
    .createTable("approvals")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("connection_id", "text", (c) => c.notNull())
    .addColumn("connection_version", "integer", (c) => c.notNull())
    .addColumn("account_login", "text", (c) => c.notNull())
    .addColumn("policy", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("requested_by_slack", "text", (c) => c.notNull())
    .addColumn("requested_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("decided_by_slack", "text")
    .addColumn("decided_at", "text")
    .addColumn("channel_id", "text")
    .addColumn("message_ts", "text")
    .addColumn("error", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("oauth_states")
    // SHA-256 of the state: a database reader cannot replay a state it finds here.
    .addColumn("state_hash", "text", (c) => c.primaryKey())
    .addColumn("operation_id", "text", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .execute();

  await db.schema
    .createTable("features")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("changed_by_slack", "text", (c) => c.notNull())
    .addColumn("changed_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("seq", "integer", (c) => c.primaryKey())
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor_slack", "text")
    .addColumn("actor_ghes", "text")
    .addColumn("actor_github", "text")
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable("slack_events")
    .addColumn("delivery_id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("jobs")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("locked_by", "text")
    .addColumn("locked_until", "text")
    .addColumn("last_run_at", "text")
    .execute();

  await db.schema
    .createTable("stats_snapshots")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("taken_at", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up().
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "stats_snapshots",
    "jobs",
    "slack_events",
    "audit_log",
    "features",
    "oauth_states",
    "approvals",
    "credentials",
    "operations",
    "connections",
    "admins",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
