// Slack delivery ids already handled: a retried delivery finds its id here and is not run twice.
import { type Kysely, sql } from "kysely";
import { storable } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import type { Engine } from "./database.js";
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
    private readonly engine: Engine,
  ) {}

  /**
   * Records the deliveries in one statement; for each, false when it was already recorded (a
   * retry or a replay) — an id twice in the list is first once.
   */
  async recordFirstMany(deliveries: Array<{ deliveryId: string; kind: string }>): Promise<boolean[]> {
    if (!deliveries.length) return [];
    const at = this.clock().toISOString();
    // Ids as the database stores them (storable), so the ids it returns are the ones compared.
    const ids = deliveries.map((d) => storable(d.deliveryId));
    const unique = [...new Map(deliveries.map((d, i) => [ids[i] as string, storable(d.kind)])).entries()];
    // One parameter for the batch, as audit-repo.ts inserts its entries (and for the same reason).
    const rows = JSON.stringify(unique.map(([id, kind]) => ({ delivery_id: id, kind })));
    const query =
      this.engine === "postgres"
        ? sql<{ delivery_id: string }>`insert into slack_events (delivery_id, kind, received_at)
            select delivery_id, kind, ${at} from json_to_recordset(${rows}::json) as row(delivery_id text, kind text)
            on conflict (delivery_id) do nothing returning delivery_id`
        : sql<{ delivery_id: string }>`insert into slack_events (delivery_id, kind, received_at)
            select value ->> 'delivery_id', value ->> 'kind', ${at} from json_each(${rows}) where true
            on conflict (delivery_id) do nothing returning delivery_id`;
    const inserted = new Set((await query.execute(this.q)).rows.map((row) => row.delivery_id));
    // The first occurrence of an inserted id is the first delivery; any later one is its repeat.
    return ids.map((id) => inserted.delete(id));
  }

  /** Forgets deliveries older than the cutoff; Slack retries within minutes, never days. */
  async prune(olderThan: Date): Promise<number> {
    const result = await this.q.deleteFrom("slack_events").where("received_at", "<", olderThan.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
