// OAuth/manifest `state` values: unguessable, single use, short-lived, bound to one operation.
// Only their SHA-256 is stored, so someone who reads the database cannot replay one.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { StateCheck, StatePurpose } from "../core/model.js";
import type { StatesStore } from "../core/store-ports.js";
import type { Database } from "./schema.js";

const hash = (state: string) => createHash("sha256").update(state).digest("hex");

export class StatesRepo implements StatesStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(state: string, operationId: string, purpose: StatePurpose, ttlMs: number): Promise<void> {
    const now = this.clock();
    await this.q
      .insertInto("oauth_states")
      .values({
        state_hash: hash(state),
        operation_id: operationId,
        purpose,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + ttlMs).toISOString(),
      })
      .execute();
  }

  /** Looks the state up without using it (the manifest page may be reloaded). */
  async peek(state: string, purpose: StatePurpose): Promise<StateCheck> {
    const row = await this.q.selectFrom("oauth_states").selectAll().where("state_hash", "=", hash(state)).executeTakeFirst();
    if (!row) return { ok: false, reason: "unknown" };
    if (row.purpose !== purpose) return { ok: false, reason: "wrong_purpose", operationId: row.operation_id };
    if (row.used_at) return { ok: false, reason: "used", operationId: row.operation_id };
    if (row.expires_at <= this.clock().toISOString()) return { ok: false, reason: "expired", operationId: row.operation_id };
    return { ok: true, operationId: row.operation_id, createdAt: row.created_at };
  }

  /** Uses the state: exactly one caller ever gets ok for a given state (conditional update). */
  async consume(state: string, purpose: StatePurpose): Promise<StateCheck> {
    const check = await this.peek(state, purpose);
    if (!check.ok) return check;
    const result = await this.q
      .updateTable("oauth_states")
      .set({ used_at: this.clock().toISOString() })
      .where("state_hash", "=", hash(state))
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? check : { ok: false, reason: "used", operationId: check.operationId };
  }

  /** Forgets every state of an operation (when it ends). */
  async dropForOperation(operationId: string): Promise<void> {
    await this.q
      .updateTable("oauth_states")
      .set({ used_at: this.clock().toISOString() })
      .where("operation_id", "=", operationId)
      .where("used_at", "is", null)
      .execute();
  }
}
