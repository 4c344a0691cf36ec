// Slack delivery ids already handled: a retried delivery finds its id here and is not run twice.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Database } from "./schema.js";

/**
 * How long a delivery id is remembered. Slack retries a delivery at most three times within about
 * five minutes, and the signature check refuses any request more than five minutes old, so a day
 * catches every retry with a wide margin while keeping the table small.
 */
export const SLACK_DELIVERY_RETENTION_MS = 24 * 60 * 60_000;

export class DeliveriesRepo {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /**
   * Records the deliveries in one statement; for each, false when it was already recorded (a
   * retry or a replay) — an id twice in the list is first once.
   */
  async recordFirstMany(deliveries: Array<{ deliveryId: string; kind: string }>): Promise<boolean[]> {
    if (!deliveries.length) return [];
    const at = this.clock().toISOString();
    const unique = [...new Map(deliveries.map((d) => [d.deliveryId, d])).values()];
    const inserted = new Set(
      (
        await this.q
          .insertInto("slack_events")
          .values(unique.map((d) => ({ delivery_id: d.deliveryId, kind: d.kind, received_at: at })))
          .onConflict((oc) => oc.column("delivery_id").doNothing())
          .returning("delivery_id")
          .execute()
      ).map((row) => row.delivery_id),
    );
    // The first occurrence of an inserted id is the first delivery; any later one is its repeat.
    return deliveries.map((d) => inserted.delete(d.deliveryId));
  }

  /** Forgets deliveries older than the cutoff; Slack retries within minutes, never days. */
  async prune(olderThan: Date): Promise<number> {
    const result = await this.q.deleteFrom("slack_events").where("received_at", "<", olderThan.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
