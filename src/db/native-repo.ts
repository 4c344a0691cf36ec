// What the native-Connect watcher has seen (see migrations/0007). `record` is one INSERT that does
// nothing on a known id, so of two replicas reading the same event exactly one announces it.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { NativeEvent } from "../core/native/events.js";
import type { NativeEventStore } from "../core/native/ports.js";
import type { Database } from "./schema.js";

interface NativeTables {
  native_events: { id: string; action: string; actor: string; at: string; account: string | null; seen_at: string };
  native_watch: { name: string; at: string; problem: string | null; ok_at: string | null };
}

const WATCH = "ghes-audit-log";

export class NativeRepo implements NativeEventStore {
  private readonly q: Kysely<NativeTables>;

  constructor(
    // The migrated database; these tables are this repo's own, typed here rather than in schema.ts.
    q: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.q = q as unknown as Kysely<NativeTables>;
  }

  async record(e: NativeEvent): Promise<boolean> {
    const inserted = await this.q
      .insertInto("native_events")
      .values({ id: e.id, action: e.action, actor: e.actor, at: e.at, account: e.account ?? null, seen_at: this.clock().toISOString() })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .execute();
    return inserted.length === 1;
  }

  async all(): Promise<NativeEvent[]> {
    const rows = await this.q.selectFrom("native_events").selectAll().orderBy("at", "asc").execute();
    return rows.map((r) => ({ id: r.id, action: r.action, actor: r.actor, at: r.at, ...(r.account ? { account: r.account } : {}) }));
  }

  async count(): Promise<number> {
    const row = await this.q
      .selectFrom("native_events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async noteLook(look: { at: string; problem: string | null }): Promise<void> {
    const okAt = look.problem ? undefined : look.at;
    await this.q
      .insertInto("native_watch")
      .values({ name: WATCH, at: look.at, problem: look.problem, ok_at: okAt ?? null })
      .onConflict((oc) => oc.column("name").doUpdateSet({ at: look.at, problem: look.problem, ...(okAt ? { ok_at: okAt } : {}) }))
      .execute();
  }

  async lastLook(): Promise<{ at: string; problem: string | null; okAt: string | null } | undefined> {
    const row = await this.q.selectFrom("native_watch").selectAll().where("name", "=", WATCH).executeTakeFirst();
    return row && { at: row.at, problem: row.problem, okAt: row.ok_at };
  }
}
