// Every command answered writes one audit entry and one Slack delivery record, so under sustained
// load these two inserts are the bot's throughput. audit_log kept a unique index on `id` (a random
// UUID) and one on `hash` (random by design): two B-trees updated at a random page per entry,
// while nothing ever looks an entry up by either. The chain cannot fork without them: `seq` is the
// primary key and appends are serialized. Dropping them made the write path about twice as fast
// (npm run bench). On SQLite, slack_events becomes a WITHOUT ROWID table: the delivery id is then
// the only B-tree, where a rowid table kept the row and a separate index of the id.
import { type Kysely, SqliteAdapter, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's schema types.
const isSqlite = (db: Kysely<any>) => db.getExecutor().adapter instanceof SqliteAdapter;

const AUDIT_COLUMNS = "seq, id, at, actor_slack, actor_ghes, actor_github, action, target, outcome, details, prev_hash, hash";

// biome-ignore lint/suspicious/noExplicitAny: see isSqlite.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isSqlite(db)) {
    await sql`alter table audit_log drop constraint if exists audit_log_id_key`.execute(db);
    await sql`alter table audit_log drop constraint if exists audit_log_hash_key`.execute(db);
    return;
  }
  // SQLite cannot drop a column's UNIQUE constraint: the tables are rebuilt, in one transaction
  // (Kysely runs SQLite migrations outside one), so a failure leaves the old ones.
  await db.transaction().execute((trx) => rebuildSqlite(trx));
}

// biome-ignore lint/suspicious/noExplicitAny: see isSqlite.
async function rebuildSqlite(db: Kysely<any>): Promise<void> {
  await sql`create table audit_log_lean (
    seq integer primary key,
    id text not null,
    at text not null,
    actor_slack text,
    actor_ghes text,
    actor_github text,
    action text not null,
    target text,
    outcome text not null,
    details text not null,
    prev_hash text not null,
    hash text not null
  )`.execute(db);
  await sql.raw(`insert into audit_log_lean (${AUDIT_COLUMNS}) select ${AUDIT_COLUMNS} from audit_log order by seq`).execute(db);
  await sql`drop table audit_log`.execute(db);
  await sql`alter table audit_log_lean rename to audit_log`.execute(db);
  await sql`create table slack_events_lean (
    delivery_id text primary key,
    kind text not null,
    received_at text not null
  ) without rowid`.execute(db);
  await sql`insert into slack_events_lean (delivery_id, kind, received_at) select delivery_id, kind, received_at from slack_events`.execute(
    db,
  );
  await sql`drop table slack_events`.execute(db);
  await sql`alter table slack_events_lean rename to slack_events`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see isSqlite.
export async function down(db: Kysely<any>): Promise<void> {
  if (!isSqlite(db)) {
    await sql`alter table audit_log add constraint audit_log_id_key unique (id)`.execute(db);
    await sql`alter table audit_log add constraint audit_log_hash_key unique (hash)`.execute(db);
    return;
  }
  // Back to exactly the tables 0001 made (UNIQUE id and hash; slack_events with a rowid).
  await db.transaction().execute(async (trx) => {
    await sql`create table audit_log_old (
      seq integer primary key,
      id text not null unique,
      at text not null,
      actor_slack text,
      actor_ghes text,
      actor_github text,
      action text not null,
      target text,
      outcome text not null,
      details text not null,
      prev_hash text not null,
      hash text not null unique
    )`.execute(trx);
    await sql.raw(`insert into audit_log_old (${AUDIT_COLUMNS}) select ${AUDIT_COLUMNS} from audit_log order by seq`).execute(trx);
    await sql`drop table audit_log`.execute(trx);
    await sql`alter table audit_log_old rename to audit_log`.execute(trx);
    await sql`create table slack_events_old (
      delivery_id text primary key,
      kind text not null,
      received_at text not null
    )`.execute(trx);
    await sql`insert into slack_events_old (delivery_id, kind, received_at) select delivery_id, kind, received_at from slack_events`.execute(
      trx,
    );
    await sql`drop table slack_events`.execute(trx);
    await sql`alter table slack_events_old rename to slack_events`.execute(trx);
  });
}
