// The admin roster: Slack user ↔ GHES login.
import { type Kysely, sql } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Engine } from "./database.js";
import type { Database } from "./schema.js";

const ROSTER_LOCK_KEY = 0x67686302; // "ghc\x02"

export interface AdminRecord {
  slackUserId: string;
  ghesLogin: string;
  addedBy: string;
  addedAt: string;
}

export class AdminsRepo {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
    private readonly engine: Engine = "sqlite",
  ) {}

  /**
   * Inside a transaction: holds off any other process doing the same until this transaction
   * ends, so that "is the roster empty? then seed it" happens once across replicas starting
   * together, and "is there another admin? then remove this one" cannot run twice at once and
   * empty the roster. (PostgreSQL: an advisory lock; SQLite's BEGIN IMMEDIATE already serializes
   * writers.)
   */
  async lockRoster(): Promise<void> {
    if (this.engine === "postgres") await sql`select pg_advisory_xact_lock(${ROSTER_LOCK_KEY})`.execute(this.q);
  }

  async find(slackUserId: string): Promise<AdminRecord | undefined> {
    const row = await this.q.selectFrom("admins").selectAll().where("slack_user_id", "=", slackUserId).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<AdminRecord[]> {
    const rows = await this.q.selectFrom("admins").selectAll().orderBy("added_at").orderBy("slack_user_id").execute();
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const row = await this.q
      .selectFrom("admins")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Adds or re-links the admin; returns false when the same link already existed. */
  async upsert(slackUserId: string, ghesLogin: string, addedBy: string): Promise<boolean> {
    const existing = await this.find(slackUserId);
    if (existing && existing.ghesLogin.toLowerCase() === ghesLogin.toLowerCase()) return false;
    const values = { slack_user_id: slackUserId, ghes_login: ghesLogin, added_by: addedBy, added_at: this.clock().toISOString() };
    await this.q
      .insertInto("admins")
      .values(values)
      .onConflict((oc) => oc.column("slack_user_id").doUpdateSet({ ghes_login: ghesLogin, added_by: addedBy, added_at: values.added_at }))
      .execute();
    return true;
  }

  async remove(slackUserId: string): Promise<boolean> {
    const result = await this.q.deleteFrom("admins").where("slack_user_id", "=", slackUserId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toRecord(row: { slack_user_id: string; ghes_login: string; added_by: string; added_at: string }): AdminRecord {
  return { slackUserId: row.slack_user_id, ghesLogin: row.ghes_login, addedBy: row.added_by, addedAt: row.added_at };
}
