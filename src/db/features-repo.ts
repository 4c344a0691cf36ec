// The GitHub Connect features' state: on/off, who changed it and when. Absent means off.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { FeatureState } from "../core/model.js";
import type { FeaturesStore } from "../core/store-ports.js";
import type { Database } from "./schema.js";

export class FeaturesRepo implements FeaturesStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async all(): Promise<FeatureState[]> {
    const rows = await this.q.selectFrom("features").selectAll().orderBy("name").execute();
    return rows.map((r) => ({
      name: r.name,
      enabled: Number(r.enabled) === 1,
      changedBySlack: r.changed_by_slack,
      changedAt: r.changed_at,
    }));
  }

  async isEnabled(name: string): Promise<boolean> {
    const row = await this.q.selectFrom("features").select("enabled").where("name", "=", name).executeTakeFirst();
    return Number(row?.enabled ?? 0) === 1;
  }

  /** Sets the state; false when it already was that (nothing to record). */
  async set(name: string, enabled: boolean, bySlack: string): Promise<boolean> {
    if ((await this.isEnabled(name)) === enabled) return false;
    const now = this.clock().toISOString();
    await this.q
      .insertInto("features")
      .values({ name, enabled: enabled ? 1 : 0, changed_by_slack: bySlack, changed_at: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ enabled: enabled ? 1 : 0, changed_by_slack: bySlack, changed_at: now }))
      .execute();
    return true;
  }

  /** Turns every feature off (on disconnect); returns the names that were on. */
  async allOff(bySlack: string): Promise<string[]> {
    const on = (await this.all()).filter((f) => f.enabled).map((f) => f.name);
    if (on.length)
      await this.q
        .updateTable("features")
        .set({ enabled: 0, changed_by_slack: bySlack, changed_at: this.clock().toISOString() })
        .where("name", "in", on)
        .execute();
    return on;
  }
}
