// Slack delivery ids already handled: a retried delivery finds its id here and is not run twice.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Database } from "./schema.js";

export class DeliveriesRepo {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Records the delivery; false when it was already recorded (a retry or a replay). */
  async recordFirst(deliveryId: string, kind: string): Promise<boolean> {
    const result = await this.q
      .insertInto("slack_events")
      .values({ delivery_id: deliveryId, kind, received_at: this.clock().toISOString() })
      .onConflict((oc) => oc.column("delivery_id").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Forgets deliveries older than the cutoff; Slack retries within minutes, never days. */
  async prune(olderThan: Date): Promise<number> {
    const result = await this.q.deleteFrom("slack_events").where("received_at", "<", olderThan.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
