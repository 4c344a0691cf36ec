// Stores audit entries. Appends are serialized across processes (PostgreSQL advisory lock held
// to the end of the transaction; SQLite's BEGIN IMMEDIATE write lock), and `seq` is the primary
// key, so two concurrent appends can never fork the chain.
import { type Kysely, sql } from "kysely";
import { type AuditEntry, type AuditInput, nextEntry } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import type { AuditLogStore } from "../core/store-ports.js";
import type { Engine } from "./database.js";
import type { AuditRow, Database } from "./schema.js";

const AUDIT_LOCK_KEY = 0x67686301; // "ghc\x01"

export class AuditRepo implements AuditLogStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly engine: Engine,
    private readonly clock: Clock,
    /** Collects what a transaction appended, to announce once it has committed. */
    private readonly appended?: AuditEntry[],
  ) {}

  /** Must run inside a transaction (Store.transaction does that). */
  async append(input: AuditInput): Promise<AuditEntry> {
    return (await this.appendMany([input]))[0] as AuditEntry;
  }

  /** Appends entries in order, chained one to the next, with one lock and one insert. */
  async appendMany(inputs: AuditInput[], ids?: string[]): Promise<AuditEntry[]> {
    if (!inputs.length) return [];
    await this.lockChain();
    let last: Pick<AuditEntry, "seq" | "hash"> | undefined = await this.q
      .selectFrom("audit_log")
      .select(["seq", "hash"])
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    const now = this.clock();
    const entries: AuditEntry[] = [];
    for (const input of inputs) {
      const entry = nextEntry(input, last, now, ids?.[entries.length]);
      last = entry;
      entries.push(entry);
    }
    await insertAsJson(this.q, this.engine, entries);
    this.appended?.push(...entries);
    return entries;
  }

  /**
   * Holds the chain's lock to the end of the transaction (PostgreSQL's advisory lock; on SQLite
   * the transaction's BEGIN IMMEDIATE already holds the write lock): every append committed
   * before it is visible, and none can commit until this transaction does.
   */
  async lockChain(): Promise<void> {
    if (this.engine === "postgres") await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(this.q);
  }

  /** The entries with these ids among the newest `lookback` (the ids are not indexed: the range on `seq` is). */
  async recentWithIds(ids: string[], lookback = 10_000): Promise<AuditEntry[]> {
    if (!ids.length) return [];
    const rows = await this.q
      .selectFrom("audit_log")
      .selectAll()
      .where("seq", ">", sql<number>`(select coalesce(max(seq), 0) - ${lookback} from audit_log)`)
      .where("id", "in", ids)
      .execute();
    return rows.map(toEntry);
  }

  async latest(limit: number): Promise<AuditEntry[]> {
    const rows = await this.q.selectFrom("audit_log").selectAll().orderBy("seq", "desc").limit(limit).execute();
    return rows.map(toEntry);
  }

  /** Every entry in chain order, a page at a time (an export of years must not load at once). */
  async *all(options: { since?: string; pageSize?: number } = {}): AsyncGenerator<AuditEntry> {
    const pageSize = options.pageSize ?? 500;
    let after = 0;
    for (;;) {
      let query = this.q.selectFrom("audit_log").selectAll().where("seq", ">", after).orderBy("seq").limit(pageSize);
      if (options.since) query = query.where("at", ">=", options.since);
      const rows = await query.execute();
      for (const row of rows) yield toEntry(row);
      if (rows.length < pageSize) return;
      after = Number((rows[rows.length - 1] as AuditRow).seq);
    }
  }

  async count(): Promise<number> {
    const row = await this.q
      .selectFrom("audit_log")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

const COLUMNS = [
  "seq",
  "id",
  "at",
  "actor_slack",
  "actor_ghes",
  "actor_github",
  "action",
  "target",
  "outcome",
  "details",
  "prev_hash",
  "hash",
];

/**
 * One insert of the batch with one parameter: the rows as a JSON array the database unpacks
 * (SQLite's json_each, PostgreSQL's json_to_recordset). Binding twelve parameters per row was most
 * of a batch's cost in the driver (sqlite3 converts each value on its own); one string is one.
 */
async function insertAsJson(q: Kysely<Database>, engine: Engine, entries: AuditEntry[]): Promise<void> {
  const rows = JSON.stringify(entries.map((entry) => ({ ...entry, details: JSON.stringify(entry.details) })));
  const columns = sql.raw(COLUMNS.join(", "));
  if (engine === "postgres") {
    const types = sql.raw(COLUMNS.map((c) => `${c} ${c === "seq" ? "integer" : "text"}`).join(", "));
    await sql`insert into audit_log (${columns}) select ${columns} from json_to_recordset(${rows}::json) as row(${types})`.execute(q);
  } else {
    const values = sql.raw(COLUMNS.map((c) => `value ->> '${c}'`).join(", "));
    await sql`insert into audit_log (${columns}) select ${values} from json_each(${rows})`.execute(q);
  }
}

function toEntry(row: AuditRow): AuditEntry {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    // A damaged row must still reach verification, which will name it.
    details = { unparseable: row.details };
  }
  return { ...row, seq: Number(row.seq), details };
}
