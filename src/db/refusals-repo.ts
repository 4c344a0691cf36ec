// Tallies of refused requests to the unauthenticated pages. Counting is one upsert; turning a
// tally into an audit entry is one conditional UPDATE that resets the row and returns what it
// held, so across replicas each refusal is stood for by exactly one entry, at most one a minute.
import { createHash } from "node:crypto";
import { type Kysely, sql } from "kysely";
import { type AuditInput, canonicalJson } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import type { DueTally } from "../core/model.js";
import type { RefusalsStore } from "../core/store-ports.js";
import type { Database } from "./schema.js";

const ACTOR_KEY = "__actor";

const keyOf = (entry: AuditInput) =>
  createHash("sha256")
    .update(canonicalJson({ action: entry.action, target: entry.target ?? null, details: entry.details ?? {} }))
    .digest("hex");

export class RefusalsRepo implements RefusalsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Counts one refusal of this kind (the entry as it would be audited, without a count). */
  async count(entry: AuditInput): Promise<string> {
    const key = keyOf(entry);
    const now = this.clock().toISOString();
    await this.q
      .insertInto("refusal_tallies")
      .values({
        key,
        action: entry.action,
        target: entry.target ?? null,
        // The actor of a refusal that has one (a refused click) rides along under a reserved key;
        // the key above is of the details alone, which name the clicker for those.
        details: JSON.stringify({ ...(entry.details ?? {}), ...(entry.actor.slack ? { [ACTOR_KEY]: entry.actor } : {}) }),
        pending: 1,
        first_pending_at: now,
        audited_at: null,
        audited_count: null,
        audited_since: null,
      })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet({
          pending: sql`refusal_tallies.pending + 1`,
          first_pending_at: sql`coalesce(refusal_tallies.first_pending_at, ${now})`,
        }),
      )
      .execute();
    return key;
  }

  /**
   * Claims the tallies with refusals pending whose last entry is at least `everyMs` old (only
   * `key`'s when given): the row is reset and what it held returned, in one statement.
   */
  async claimDue(everyMs: number, key?: string): Promise<DueTally[]> {
    const now = this.clock();
    const cutoff = new Date(now.getTime() - everyMs).toISOString();
    let query = this.q
      .updateTable("refusal_tallies")
      .set({
        audited_count: sql`pending`,
        audited_since: sql`first_pending_at`,
        pending: 0,
        first_pending_at: null,
        audited_at: now.toISOString(),
      })
      .where("pending", ">", 0)
      .where((eb) => eb.or([eb("audited_at", "is", null), eb("audited_at", "<=", cutoff)]));
    if (key) query = query.where("key", "=", key);
    const rows = await query.returning(["action", "target", "details", "audited_count", "audited_since"]).execute();
    return rows.map((row) => {
      const { [ACTOR_KEY]: actor, ...details } = JSON.parse(row.details) as Record<string, unknown>;
      return {
        entry: {
          actor: (actor as AuditInput["actor"] | undefined) ?? { slack: null },
          action: row.action,
          target: row.target,
          outcome: "refused" as const,
          details,
        },
        count: Number(row.audited_count),
        since: row.audited_since ?? now.toISOString(),
      };
    });
  }

  /** Forgets tallies with nothing pending whose last entry is older than `olderThanMs`. */
  async prune(olderThanMs: number): Promise<void> {
    const cutoff = new Date(this.clock().getTime() - olderThanMs).toISOString();
    await this.q.deleteFrom("refusal_tallies").where("pending", "=", 0).where("audited_at", "<=", cutoff).execute();
  }
}
