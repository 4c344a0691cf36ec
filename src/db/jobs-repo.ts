// Periodic jobs that must run once per period across replicas (statistics, sweeps): a job is
// claimed by one conditional UPDATE of its row, so only one replica wins each period.
import { type Kysely, sql } from "kysely";
import type { Clock } from "../core/clock.js";
import type { JobsStore, StatsStore } from "../core/store-ports.js";
import type { Database } from "./schema.js";

export class JobsRepo implements JobsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** true for exactly one caller per `periodMs` (the row's last_run_at moves to now). */
  claim(name: string, periodMs: number, by: string): Promise<boolean> {
    const now = this.clock();
    return this.take({ name, by, now, dueIf: { lastRun: "<=", than: new Date(now.getTime() - periodMs) } });
  }

  /**
   * true for exactly one caller per slot: the clock's time cut into periods of `periodMs` from the
   * epoch (a calendar minute for 60 s). Unlike `claim`, a caller that ticks every `periodMs` wins
   * every one of its ticks even when its claim lands a few milliseconds earlier in the period
   * than last time, so a job that must run each tick is never skipped for a tick.
   */
  claimSlot(name: string, periodMs: number, by: string): Promise<boolean> {
    const now = this.clock();
    return this.take({ name, by, now, dueIf: { lastRun: "<", than: new Date(Math.floor(now.getTime() / periodMs) * periodMs) } });
  }

  /** Moves the job's last run to `now` when it is due (it never ran, or its last run compares to `than` as told). */
  private async take(job: { name: string; by: string; now: Date; dueIf: { lastRun: "<=" | "<"; than: Date } }): Promise<boolean> {
    await this.q
      .insertInto("jobs")
      .values({ name: job.name, locked_by: null, locked_until: null, last_run_at: null })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const result = await this.q
      .updateTable("jobs")
      .set({ last_run_at: job.now.toISOString(), locked_by: job.by })
      .where("name", "=", job.name)
      .where((eb) => eb.or([eb("last_run_at", "is", null), eb("last_run_at", job.dueIf.lastRun, job.dueIf.than.toISOString())]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

export class StatsRepo implements StatsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async add(id: string, data: Record<string, unknown>): Promise<void> {
    await this.q
      .insertInto("stats_snapshots")
      .values({ id, taken_at: this.clock().toISOString(), data: JSON.stringify(data) })
      .execute();
  }

  /** The latest snapshots, newest first. */
  async latest(limit: number): Promise<Array<{ takenAt: string; data: Record<string, unknown> }>> {
    const rows = await this.q.selectFrom("stats_snapshots").selectAll().orderBy("taken_at", "desc").limit(limit).execute();
    return rows.map((r) => ({ takenAt: r.taken_at, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async count(): Promise<number> {
    const r = await sql<{ n: number }>`select count(*) as n from stats_snapshots`.execute(this.q);
    return Number(r.rows[0]?.n ?? 0);
  }
}
