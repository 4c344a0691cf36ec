// Governed changes of GHES's native Connect features (see migrations/0007). Every move is one
// conditional UPDATE (from the statuses it may leave), so a double click, two admins or two
// replicas move a request once; the caller audits only when its move won, in the same
// transaction (the repository is one of the store's, so `tx.nativeRequests` is bound to it).
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { NativeRequest, NativeRequestStatus, NativeRequestStore } from "../core/native/governed.js";
import type { Database } from "./schema.js";

interface Tables {
  native_requests: {
    id: string;
    feature: string;
    action: string;
    policy: string;
    status: string;
    requested_by_slack: string;
    requested_by_ghes: string | null;
    requested_by_ghes_id: number | null;
    requested_at: string;
    expires_at: string;
    decided_by_slack: string | null;
    decided_at: string | null;
    settled_at: string | null;
    settled_by: string | null;
    channel_id: string | null;
    message_ts: string | null;
    updated_at: string;
  };
}

export class NativeRequestsRepo implements NativeRequestStore {
  private readonly q: Kysely<Tables>;

  constructor(
    q: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.q = q as unknown as Kysely<Tables>;
  }

  async create(
    r: Pick<
      NativeRequest,
      "id" | "feature" | "action" | "policy" | "requestedBySlack" | "requestedByGhes" | "requestedByGhesId" | "requestedAt" | "expiresAt"
    >,
  ): Promise<void> {
    await this.q
      .insertInto("native_requests")
      .values({
        id: r.id,
        feature: r.feature,
        action: r.action,
        policy: r.policy,
        status: "pending",
        requested_by_slack: r.requestedBySlack,
        requested_by_ghes: r.requestedByGhes,
        requested_by_ghes_id: r.requestedByGhesId,
        requested_at: r.requestedAt,
        expires_at: r.expiresAt,
        decided_by_slack: null,
        decided_at: null,
        settled_at: null,
        settled_by: null,
        channel_id: null,
        message_ts: null,
        updated_at: this.clock().toISOString(),
      })
      .execute();
  }

  async get(id: string): Promise<NativeRequest | undefined> {
    const row = await this.q.selectFrom("native_requests").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toRequest(row);
  }

  async open(feature: string): Promise<NativeRequest | undefined> {
    const row = await this.q
      .selectFrom("native_requests")
      .selectAll()
      .where("feature", "=", feature)
      .where("status", "in", ["pending", "awaiting"])
      .orderBy("requested_at", "desc")
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async awaiting(): Promise<NativeRequest[]> {
    const rows = await this.q.selectFrom("native_requests").selectAll().where("status", "=", "awaiting").execute();
    return rows.map(toRequest);
  }

  async setCard(id: string, card: { channel: string; ts: string }): Promise<void> {
    await this.q.updateTable("native_requests").set({ channel_id: card.channel, message_ts: card.ts }).where("id", "=", id).execute();
  }

  async approve(id: string, by: string, waitUntil: string): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.q
      .updateTable("native_requests")
      .set({ status: "awaiting", decided_by_slack: by, decided_at: now, expires_at: waitUntil, updated_at: now })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async settle(id: string, from: NativeRequestStatus[], to: NativeRequestStatus, by: string | null): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.q
      .updateTable("native_requests")
      .set({ status: to, settled_at: now, settled_by: by, updated_at: now })
      .where("id", "=", id)
      .where("status", "in", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async lapsed(now: Date): Promise<NativeRequest[]> {
    const rows = await this.q
      .selectFrom("native_requests")
      .selectAll()
      .where("status", "in", ["pending", "awaiting"])
      .where("expires_at", "<=", now.toISOString())
      .execute();
    return rows.map(toRequest);
  }
}

function toRequest(row: Tables["native_requests"]): NativeRequest {
  return {
    id: row.id,
    feature: row.feature as NativeRequest["feature"],
    action: row.action as "enable" | "disable",
    policy: row.policy as "self" | "peer",
    status: row.status as NativeRequestStatus,
    requestedBySlack: row.requested_by_slack,
    requestedByGhes: row.requested_by_ghes ?? null,
    requestedByGhesId: row.requested_by_ghes_id ?? null,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBySlack: row.decided_by_slack,
    decidedAt: row.decided_at,
    settledAt: row.settled_at,
    settledBy: row.settled_by,
    card: row.channel_id && row.message_ts ? { channel: row.channel_id, ts: row.message_ts } : null,
  };
}
