// The admin roster: Slack user ↔ GHES login, with the GHES login that Slack user has proven by
// signing in (person_links) and that account's GHES user id, since an entry grants nothing until the
// two logins agree, and four eyes compare the id.
import { type Kysely, sql } from "kysely";
import type { Clock } from "../core/clock.js";
import type { AdminRecord } from "../core/model.js";
import type { AdminsStore } from "../core/store-ports.js";
import type { Engine } from "./database.js";
import type { Database } from "./schema.js";

const ROSTER_LOCK_KEY = 0x67686302; // "ghc\x02"

export class AdminsRepo implements AdminsStore {
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

  private withProof() {
    return this.q
      .selectFrom("admins")
      .leftJoin("person_links", (join) =>
        join.onRef("person_links.slack_user_id", "=", "admins.slack_user_id").on("person_links.side", "=", "ghes"),
      )
      .select([
        "admins.slack_user_id",
        "admins.ghes_login",
        "admins.added_by",
        "admins.added_at",
        "person_links.login as proven_login",
        "person_links.ghes_user_id as proven_id",
      ]);
  }

  async find(slackUserId: string): Promise<AdminRecord | undefined> {
    const row = await this.withProof().where("admins.slack_user_id", "=", slackUserId).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<AdminRecord[]> {
    const rows = await this.withProof().orderBy("admins.added_at").orderBy("admins.slack_user_id").execute();
    return rows.map(toRecord);
  }

  /** The roster entry holding this GHES login (logins are case-insensitive), if any. */
  async findByLogin(ghesLogin: string): Promise<AdminRecord | undefined> {
    const rows = await this.withProof().execute();
    const found = rows.find((r) => r.ghes_login.toLowerCase() === ghesLogin.toLowerCase());
    return found && toRecord(found);
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

function toRecord(row: {
  slack_user_id: string;
  ghes_login: string;
  added_by: string;
  added_at: string;
  proven_login?: string | null;
  proven_id?: number | null;
}): AdminRecord {
  return {
    slackUserId: row.slack_user_id,
    ghesLogin: row.ghes_login,
    addedBy: row.added_by,
    addedAt: row.added_at,
    provenGhesLogin: row.proven_login ?? null,
    provenGhesId: row.proven_id == null ? null : Number(row.proven_id),
  };
}
