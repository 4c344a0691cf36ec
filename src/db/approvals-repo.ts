// Disconnect approvals. The decisive step is `claim`: one conditional UPDATE (pending → approved
// by X), so exactly one click wins across double clicks, Slack retries and several replicas.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Approval, ApprovalStatus } from "../core/model.js";
import type { ApprovalsStore } from "../core/store-ports.js";
import type { ApprovalRow, Database } from "./schema.js";

export type { Approval, ApprovalStatus };

export class ApprovalsRepo implements ApprovalsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(a: Omit<Approval, "status" | "decidedBySlack" | "decidedAt" | "card" | "error" | "action">): Promise<void> {
    await this.q
      .insertInto("approvals")
      .values({
        id: a.id,
        action: "disconnect",
        connection_id: a.connectionId,
        connection_version: a.connectionVersion,
        account_login: a.org,
        policy: a.policy,
        status: "pending",
        requested_by_slack: a.requestedBySlack,
        requested_by_ghes: a.requestedByGhes,
        requested_by_ghes_id: a.requestedByGhesId,
        requested_at: a.requestedAt,
        expires_at: a.expiresAt,
        updated_at: this.clock().toISOString(),
      })
      .execute();
  }

  async get(id: string): Promise<Approval | undefined> {
    const row = await this.q.selectFrom("approvals").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toApproval(row);
  }

  async pendingFor(connectionId: string): Promise<Approval | undefined> {
    const row = await this.q
      .selectFrom("approvals")
      .selectAll()
      .where("connection_id", "=", connectionId)
      .where("status", "in", ["pending", "approved", "executing", "failed"])
      .orderBy("requested_at", "desc")
      .executeTakeFirst();
    return row && toApproval(row);
  }

  async setCard(id: string, card: { channel: string; ts: string }): Promise<void> {
    await this.q.updateTable("approvals").set({ channel_id: card.channel, message_ts: card.ts }).where("id", "=", id).execute();
  }

  /** pending → approved by `by`, only if still pending and unexpired. true for the one winner. */
  async claim(id: string, by: string): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.q
      .updateTable("approvals")
      .set({ status: "approved", decided_by_slack: by, decided_at: now, updated_at: now })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Moves the approval on only if it is in one of `from`; true when this call moved it. */
  async transition(
    id: string,
    from: ApprovalStatus[],
    to: ApprovalStatus,
    patch: { error?: string | null; decidedBy?: string } = {},
  ): Promise<boolean> {
    const now = this.clock().toISOString();
    const values: Record<string, unknown> = { status: to, updated_at: now };
    if (patch.error !== undefined) values.error = patch.error;
    if (patch.decidedBy !== undefined) Object.assign(values, { decided_by_slack: patch.decidedBy, decided_at: now });
    const result = await this.q.updateTable("approvals").set(values).where("id", "=", id).where("status", "in", from).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The executing bot's heartbeat: moves the lease on while the request is still executing. */
  async renewLease(id: string): Promise<boolean> {
    const result = await this.q
      .updateTable("approvals")
      .set({ updated_at: this.clock().toISOString() })
      .where("id", "=", id)
      .where("status", "=", "executing")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async expiredPending(now: Date): Promise<Approval[]> {
    const rows = await this.q
      .selectFrom("approvals")
      .selectAll()
      .where("status", "=", "pending")
      .where("expires_at", "<=", now.toISOString())
      .execute();
    return rows.map(toApproval);
  }

  /** Approvals "executing" with no heartbeat since before `before` (their bot died mid-way). */
  async executingSince(before: Date): Promise<Approval[]> {
    const rows = await this.q
      .selectFrom("approvals")
      .selectAll()
      .where("status", "=", "executing")
      .where("updated_at", "<=", before.toISOString())
      .execute();
    return rows.map(toApproval);
  }

  async countPending(): Promise<number> {
    const row = await this.q
      .selectFrom("approvals")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "pending")
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    action: "disconnect",
    connectionId: row.connection_id,
    connectionVersion: Number(row.connection_version),
    org: row.account_login,
    policy: row.policy as "self" | "peer",
    status: row.status as ApprovalStatus,
    requestedBySlack: row.requested_by_slack,
    requestedByGhes: row.requested_by_ghes ?? null,
    requestedByGhesId: row.requested_by_ghes_id ?? null,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBySlack: row.decided_by_slack,
    decidedAt: row.decided_at,
    card: row.channel_id && row.message_ts ? { channel: row.channel_id, ts: row.message_ts } : null,
    error: row.error,
  };
}
