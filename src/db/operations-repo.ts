// Operations in flight (enable/disable) and their history. At most one is in flight per server:
// the `in_flight` column is 1 while it runs and NULL after, under a unique index.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import {
  IN_FLIGHT,
  type NewOperation,
  type Operation,
  type OperationPatch,
  type OperationStatus,
  type ServerFacts,
} from "../core/model.js";
import type { OperationsStore } from "../core/store-ports.js";
import type { Database, OperationRow } from "./schema.js";

export class OperationsRepo implements OperationsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Inserts the operation as in flight; false when another one already is (unique index). */
  async startIfIdle(op: NewOperation): Promise<boolean> {
    const now = this.clock().toISOString();
    // ON CONFLICT, not a caught error: a failed statement aborts a PostgreSQL transaction.
    const result = await this.q
      .insertInto("operations")
      .values({
        id: op.id,
        kind: op.kind,
        account_login: op.org,
        account_kind: op.accountKind ?? "organization",
        status: op.kind === "enable" ? "preflight" : "completing",
        requested_by_slack: op.requestedBySlack,
        requested_by_ghes: op.requestedByGhes,
        response_url: op.responseUrl,
        app_name: op.appName,
        created_at: now,
        updated_at: now,
        expires_at: op.expiresAt.toISOString(),
        in_flight: 1,
      })
      .onConflict((oc) => oc.column("in_flight").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string): Promise<Operation | undefined> {
    const row = await this.q.selectFrom("operations").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toOperation(row);
  }

  async inFlight(): Promise<Operation | undefined> {
    const row = await this.q.selectFrom("operations").selectAll().where("in_flight", "=", 1).executeTakeFirst();
    return row && toOperation(row);
  }

  async expiredInFlight(now: Date): Promise<Operation[]> {
    const rows = await this.q
      .selectFrom("operations")
      .selectAll()
      .where("in_flight", "=", 1)
      .where("expires_at", "<=", now.toISOString())
      .execute();
    return rows.map(toOperation);
  }

  /**
   * Moves the operation on only if it is still in one of `from` (and at `version`, when given):
   * the conditional update that makes double clicks, retries and replicas safe. Returns the
   * updated operation, or undefined when someone else moved it first.
   */
  async transition(id: string, from: readonly OperationStatus[], patch: OperationPatch, version?: number): Promise<Operation | undefined> {
    const values: Record<string, unknown> = { updated_at: this.clock().toISOString() };
    if (patch.status) {
      values.status = patch.status;
      values.in_flight = IN_FLIGHT.includes(patch.status) ? 1 : null;
    }
    if (patch.card) Object.assign(values, { card_channel: patch.card.channel, card_ts: patch.card.ts });
    if (patch.app)
      Object.assign(values, {
        app_id: patch.app.id,
        app_slug: patch.app.slug,
        app_client_id: patch.app.clientId,
        app_owner: patch.app.owner,
      });
    if (patch.githubLogin !== undefined) values.github_login = patch.githubLogin;
    if (patch.installationId !== undefined) values.installation_id = patch.installationId;
    if (patch.addendumVersion !== undefined) values.addendum_version = patch.addendumVersion;
    if (patch.addendumAcceptedAt !== undefined) values.addendum_accepted_at = patch.addendumAcceptedAt;
    if (patch.facts !== undefined) values.preflight = JSON.stringify(patch.facts);
    if (patch.error !== undefined) values.error = patch.error;
    if (patch.expiresAt !== undefined) values.expires_at = patch.expiresAt.toISOString();
    let query = this.q
      .updateTable("operations")
      .set((eb) => ({ ...values, version: eb("version", "+", 1) }))
      .where("id", "=", id)
      .where("status", "in", [...from]);
    if (version !== undefined) query = query.where("version", "=", version);
    const result = await query.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return this.get(id);
  }

  /** Records where the card lives; not a state change. */
  async setCard(id: string, card: { channel: string; ts: string }): Promise<void> {
    await this.q.updateTable("operations").set({ card_channel: card.channel, card_ts: card.ts }).where("id", "=", id).execute();
  }
}

function toOperation(row: OperationRow): Operation {
  return {
    id: row.id,
    kind: row.kind,
    org: row.account_login,
    accountKind: row.account_kind === "enterprise" ? "enterprise" : "organization",
    status: row.status as OperationStatus,
    version: Number(row.version),
    requestedBySlack: row.requested_by_slack,
    requestedByGhes: row.requested_by_ghes,
    responseUrl: row.response_url,
    card: row.card_channel && row.card_ts ? { channel: row.card_channel, ts: row.card_ts } : null,
    appName: row.app_name,
    app:
      row.app_id !== null && row.app_slug && row.app_client_id
        ? { id: Number(row.app_id), slug: row.app_slug, clientId: row.app_client_id, owner: row.app_owner ?? "" }
        : null,
    githubLogin: row.github_login,
    installationId: row.installation_id === null ? null : Number(row.installation_id),
    addendumVersion: row.addendum_version,
    addendumAcceptedAt: row.addendum_accepted_at,
    facts: row.preflight ? (JSON.parse(row.preflight) as ServerFacts) : null,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}
