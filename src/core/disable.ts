// Disable (SPEC §4): a card with a confirmation button; the click is re-authorized live for the
// clicking user, bound to the connection as it was when requested, and claimed with one
// conditional UPDATE so exactly one click ever executes. The local deletion never depends on
// GitHub: when GitHub fails, an admin can delete the credentials anyway.
import { randomUUID } from "node:crypto";
import type { Actor, AuditInput } from "./audit.js";
import { type AdminIdentity, authorizeAdmin, isRequester, requestedAsYou } from "./authorize.js";
import type { Clock } from "./clock.js";
import { type DisableStage, disableCard, INTERRUPTED_REASON } from "./disable-card.js";
import { when } from "./enable-card.js";
import { NotConnected, OperationInFlight, UserError } from "./errors.js";
import { type Message, refusalMessage, simpleMessage } from "./message.js";
import type { AccountKind, Approval, Connection } from "./model.js";
import type { DotcomGateway, FlowStore, GhesGateway, Notifier } from "./ports.js";
import {
  authorizeClick,
  type ClickAuthorizer,
  type InfoLog,
  isRefusal,
  type Refusal,
  type RefusalCode,
  RefusalLog,
  refuseClick,
} from "./refusals.js";
import { cardNotPostedMessage } from "./replies.js";
import { approvalStateWords } from "./status/view.js";

/**
 * How long an executing disconnect survives without a heartbeat from its bot. The bot executing
 * it renews the lease every third of this, so a slow GitHub never trips it while the bot lives;
 * a bot that dies (SIGKILL, OOM, node lost) stops renewing, and the sweep hands the request
 * back to the admins within one lease plus one sweep interval.
 */
export const EXECUTION_LEASE_MS = 60_000;

export interface DisableDeps {
  store: FlowStore;
  ghes: GhesGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  clock: Clock;
  policy: "self" | "peer";
  ttlMs: number;
  /** EXECUTION_LEASE_MS unless configured (GHCONNECT_EXECUTION_LEASE). */
  executionLeaseMs?: number;
  /** Revokes the github.com user tokens the connected app issued to linked people, and forgets them. */
  revokePersonLinks?(connectionId: string): Promise<{ revoked: number; failed: number }>;
  /** Where refused clicks that are only counted (not audited one by one) are logged. */
  log?: InfoLog;
}

/** The connection changed under an executing disconnect: its transaction is rolled back. */
class ConnectionChanged extends Error {}

export class DisableFlow {
  /** Refused clicks on a card: coalesced per user, card and reason (see refusedClick). */
  private readonly refusals: RefusalLog;

  constructor(private readonly deps: DisableDeps) {
    this.refusals = new RefusalLog({ store: deps.store, log: deps.log });
  }

  private async updateCard(a: Approval, c: Connection, stage: DisableStage): Promise<void> {
    if (a.card) await this.deps.notifier.update(a.card, disableCard(a, c, stage));
  }

  /** `/ghconnect disable ORG` or `disable enterprise:SLUG`: posts the confirmation card. */
  async request(org: string, slackUserId: string, accountKind: AccountKind = "organization"): Promise<Message> {
    const { store, ghes, clock } = this.deps;
    const named = accountKind === "enterprise" ? `enterprise:${org}` : org;
    const admin = await authorizeAdmin(store.admins, ghes, slackUserId, `disconnect ${named}`);
    const connection = await store.connections.active();
    // A plain name is an organization: `disable acme-corp` does not disconnect the enterprise acme-corp.
    if (!connection || connection.org !== org || connection.accountKind !== accountKind) {
      const connected = connection?.accountKind === "enterprise" ? `enterprise:${connection.org}` : connection?.org;
      throw new NotConnected(
        connection
          ? `This server is connected to ${connected}, not ${named}.`
          : `This server is not connected to ${named} (it is not connected to any account).`,
        connection ? `To disconnect it, run \`/ghconnect disable ${connected}\`.` : "`/ghconnect status` shows the connection.",
        { ghes: admin.ghesLogin },
      );
    }
    const open = await store.approvals.pendingFor(connection.id);
    if (open && (open.status !== "pending" || Date.parse(open.expiresAt) > clock().getTime())) {
      throw new OperationInFlight(
        `A disconnect of ${org} requested by <@${open.requestedBySlack}> at ${when(open.requestedAt)} is already ${approvalStateWords(open.status, open.policy)}${open.status === "pending" ? ` (expires ${when(open.expiresAt)})` : ""}.`,
        "Use the buttons on its card in the admin channel.",
        { ghes: admin.ghesLogin },
      );
    }
    const now = clock();
    const approval: Omit<Approval, "status" | "decidedBySlack" | "decidedAt" | "card" | "error" | "action"> = {
      id: randomUUID(),
      connectionId: connection.id,
      connectionVersion: connection.version,
      org,
      policy: this.deps.policy,
      requestedBySlack: slackUserId,
      requestedByGhes: admin.ghesLogin,
      requestedByGhesId: admin.ghesId,
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.deps.ttlMs).toISOString(),
    };
    await store.transaction(async (tx) => {
      await tx.approvals.create(approval);
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "disable.requested",
        target: org,
        outcome: "pending",
        details: {
          approval: approval.id,
          connection: connection.id,
          connection_version: connection.version,
          policy: this.deps.policy,
          expires_at: approval.expiresAt,
        },
      });
    });
    const created = (await store.approvals.get(approval.id)) as Approval;
    const features = (await store.features.all()).filter((f) => f.enabled).map((f) => f.name);
    const card = await this.deps.notifier.post(
      this.deps.notifier.adminChannel,
      disableCard(created, connection, { kind: "pending", features }),
    );
    if (!card) return this.withdrawUnposted(created, connection.accountKind === "enterprise" ? `enterprise:${org}` : org);
    await store.approvals.setCard(approval.id, card);
    return simpleMessage(
      `Posted the disconnect request for ${org} in <#${this.deps.notifier.adminChannel}>. ${
        this.deps.policy === "peer" ? "A second admin must approve it." : "Any admin, you included, can approve it there."
      } It expires at ${when(approval.expiresAt)}.`,
    );
  }

  /** The Disconnect button. */
  async approve(approvalId: string, slackUserId: string): Promise<Message> {
    const { store, clock } = this.deps;
    const a = await store.approvals.get(approvalId);
    if (!a) return simpleMessage("This disconnect request no longer exists. Nothing was changed.");
    const click = { slackUserId, action: "disable.approve", target: a.org, details: { approval: a.id } };
    // Every refusal of the Disconnect button says that nothing was changed, with no hint.
    const say = (refusal: Refusal) => refusalMessage({ reason: refusal.reason }, { nothingChanged: true });
    const refuse = async (code: RefusalCode, reason: string, actor: Actor) =>
      say(await refuseClick(this.refusals, click, { code, reason, actor }));
    const admin = await authorizeClick(this.clickAuthorizer(), { ...click, doing: `approve the disconnect of ${a.org}` });
    if (isRefusal(admin)) return say(admin);
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    if (a.status !== "pending") return refuse("not_pending", this.notPending(a), actor);
    // Four eyes are two people, not two Slack accounts: the requester's GHES account counts too, the
    // one they were an admin as when they asked (kept on the approval, so removing or relinking
    // their entry meanwhile changes nothing) and the one their entry names now.
    const samePerson = a.policy === "peer" && (await isRequester(store, a, admin));
    if (a.policy === "peer" && (slackUserId === a.requestedBySlack || samePerson)) {
      return refuse(
        "same_person",
        slackUserId === a.requestedBySlack
          ? `This disconnect needs a second admin: <@${a.requestedBySlack}> asked for it, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`
          : `This disconnect needs a second person: <@${a.requestedBySlack}> asked for it ${requestedAsYou(a, admin)}, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`,
        actor,
      );
    }
    const connection = await store.connections.get(a.connectionId);
    if (Date.parse(a.expiresAt) <= clock().getTime()) {
      await this.expire(a);
      return refuse("expired", `This request expired at ${when(a.expiresAt)}.`, actor);
    }
    const active = await store.connections.active();
    if (!connection || !active || active.id !== a.connectionId || active.version !== a.connectionVersion) {
      const reason = !active
        ? `${a.org} was already disconnected since this request was made.`
        : active.id !== a.connectionId
          ? `The server was reconnected (to ${active.org}, at ${when(active.connectedAt)}) since this request was made.`
          : `The connection to ${a.org} changed since this request was made.`;
      if (await store.approvals.transition(a.id, ["pending"], "stale", { error: reason })) {
        if (connection) await this.updateCard(a, connection, { kind: "stale", reason });
      }
      return refuse("stale", `${reason} This approval is no longer valid.`, actor);
    }
    const won = await store.transaction(async (tx) => {
      if (!(await tx.approvals.claim(a.id, slackUserId))) return false;
      await tx.audit.append({
        actor,
        action: "disable.approved",
        target: a.org,
        outcome: "ok",
        details: { approval: a.id, requested_by: a.requestedBySlack },
      });
      return true;
    });
    if (!won) return refuse("not_pending", this.notPending((await store.approvals.get(a.id)) as Approval), actor);
    return this.execute((await store.approvals.get(a.id)) as Approval, connection, actor, ["approved"]);
  }

  /** "Retry" after GitHub failed. */
  async retry(approvalId: string, slackUserId: string): Promise<Message> {
    return this.afterFailure(approvalId, slackUserId, false);
  }

  /** "Delete local credentials anyway" after GitHub failed. */
  async force(approvalId: string, slackUserId: string): Promise<Message> {
    return this.afterFailure(approvalId, slackUserId, true);
  }

  private async afterFailure(approvalId: string, slackUserId: string, force: boolean): Promise<Message> {
    const { store } = this.deps;
    const a = await store.approvals.get(approvalId);
    if (!a) return simpleMessage("This disconnect request no longer exists.");
    const admin = await this.authorizeClick(a, {
      slackUserId,
      action: force ? "disable.force" : "disable.retry",
      doing: `finish the disconnect of ${a.org}`,
    });
    if (isRefusal(admin)) return refusalMessage(admin);
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    if (a.status !== "failed") return simpleMessage(this.notPending(a));
    const connection = await store.connections.get(a.connectionId);
    if (!connection) return simpleMessage("The connection of this request no longer exists.");
    return this.execute(a, connection, actor, ["failed"], force ? { error: a.error ?? "GitHub failed" } : undefined);
  }

  private async execute(
    a: Approval,
    connection: Connection,
    actor: Actor,
    from: Array<Approval["status"]>,
    forced?: { error: string },
  ): Promise<Message> {
    const { store } = this.deps;
    if (!(await store.approvals.transition(a.id, from, "executing")))
      return simpleMessage(this.notPending((await store.approvals.get(a.id)) as Approval));
    // The heartbeat: while this bot lives, the lease never runs out, however slow GitHub is.
    const leaseMs = this.deps.executionLeaseMs ?? EXECUTION_LEASE_MS;
    const heartbeat = setInterval(() => void store.approvals.renewLease(a.id).catch(() => undefined), Math.max(1, leaseMs / 3));
    heartbeat.unref?.();
    try {
      return await this.executeLeased(a, connection, actor, forced);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async executeLeased(a: Approval, connection: Connection, actor: Actor, forced?: { error: string }): Promise<Message> {
    const { store, dotcom } = this.deps;
    const approvedBy = a.decidedBySlack ?? actor.slack ?? "";
    await this.updateCard(a, connection, { kind: "executing", by: approvedBy });
    const owner = { connectionId: connection.id };
    let uninstalled = false;
    let registrationExists: boolean | undefined;
    if (!forced) {
      try {
        const key = await store.credentials.get(owner, "private_key");
        const cached = await store.credentials.get(owner, "installation_token");
        const token = cached?.secret;
        if (token) await dotcom.revokeInstallationToken(token);
        if (key && connection.appId !== null && connection.installationId !== null) {
          const app = { appId: connection.appId, privateKey: key.secret };
          uninstalled = await dotcom.uninstall(app, connection.installationId);
          // An enterprise's app may be installed on several of its organizations: every installation goes.
          if (connection.accountKind === "enterprise")
            for (const other of await dotcom.installations(app))
              if (other.id !== connection.installationId) await dotcom.uninstall(app, other.id);
          // The last look with the app's own key, before the key is deleted for good.
          registrationExists = await dotcom.appExists(app).catch(() => undefined);
        }
      } catch (error) {
        const reason = error instanceof UserError ? error.message : (error as Error).message;
        const moved = await this.move(
          a,
          ["executing"],
          "failed",
          { error: reason },
          { actor, action: "disable.github_failed", outcome: "failed", details: { approval: a.id, reason } },
        );
        // Not moved: a sweep took the request back (this bot stalled past its lease); its card says so.
        if (!moved) return simpleMessage(this.notPending((await store.approvals.get(a.id)) as Approval));
        await this.updateCard(a, connection, { kind: "github_failed", error: reason });
        return simpleMessage(
          `❌ GitHub failed while disconnecting ${a.org}: ${reason}`,
          "Nothing was deleted yet. Use Retry or “Delete local credentials anyway” on the card.",
        );
      }
    }
    // While the app's client secret still exists: GitHub revokes user tokens only for their app.
    const personTokens = this.deps.revokePersonLinks ? await this.deps.revokePersonLinks(connection.id) : undefined;
    const finish = store.transaction(async (tx) => {
      // Still ours: a sweep may have handed the request back if this bot stalled past its lease.
      if (!(await tx.approvals.transition(a.id, ["executing"], "done"))) return false;
      if (!(await tx.connections.markDisconnected(connection.id, connection.version, approvedBy))) throw new ConnectionChanged();
      const deleted = await tx.credentials.deleteAll(owner);
      const featuresOff = await tx.features.allOff(actor.slack ?? approvedBy);
      await tx.audit.append({
        actor,
        action: "disable.done",
        target: a.org,
        outcome: "ok",
        details: {
          approval: a.id,
          connection: connection.id,
          approved_by: approvedBy,
          token_revoked: !forced,
          uninstalled,
          forced: forced ? { github_error: forced.error } : undefined,
          credentials_deleted: deleted,
          features_off: featuresOff,
          registration_exists: registrationExists ?? "unknown",
          ...(personTokens ? { linked_accounts_revoked: personTokens.revoked, linked_accounts_revoke_failed: personTokens.failed } : {}),
        },
      });
      return true;
    });
    const done = await finish.catch((error: unknown) => {
      if (error instanceof ConnectionChanged) return undefined;
      throw error;
    });
    if (done === false) return simpleMessage(this.notPending((await store.approvals.get(a.id)) as Approval));
    if (done === undefined) {
      await store.approvals.transition(a.id, ["executing"], "stale", { error: "the connection changed while disconnecting" });
      return simpleMessage(`The connection to ${a.org} changed while disconnecting; nothing more was done.`);
    }
    if (registrationExists === false) await store.connections.noteRegistrationDeleted(connection.id);
    const finished = (await store.approvals.get(a.id)) as Approval;
    await this.updateCard(finished, connection, { kind: "done", by: approvedBy, registrationExists, uninstalled, forced });
    return simpleMessage(
      `✅ Disconnected ${a.org}.${registrationExists === false ? "" : ` Delete the app registration by hand at ${connection.appSettingsUrl ?? "its settings page on GitHub"}: GitHub has no API for that.`}`,
    );
  }

  /** The Cancel button: any admin (checked live), exactly once. */
  async cancel(approvalId: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const a = await store.approvals.get(approvalId);
    if (!a) return simpleMessage("This disconnect request no longer exists.");
    const admin = await this.authorizeClick(a, { slackUserId, action: "disable.cancel", doing: `cancel the disconnect of ${a.org}` });
    if (isRefusal(admin)) return refusalMessage(admin);
    const cancelled = await this.move(
      a,
      ["pending"],
      "cancelled",
      { decidedBy: slackUserId },
      {
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "disable.cancelled",
        outcome: "ok",
        details: { approval: a.id },
      },
    );
    if (!cancelled) return simpleMessage(this.notPending((await store.approvals.get(a.id)) as Approval));
    const connection = await store.connections.get(a.connectionId);
    if (connection) await this.updateCard(a, connection, { kind: "cancelled", by: slackUserId });
    return simpleMessage(`Cancelled the disconnect of ${a.org}; it stays connected.`);
  }

  /**
   * Expires pending requests whose time ran out (their cards lose the buttons), and recovers
   * disconnects whose bot died while executing (no heartbeat for a whole lease): they become
   * "failed", nothing is deleted locally, and the card offers Retry or "delete local credentials
   * anyway". Scheduled by the app on every replica; each move is conditional, so one wins.
   */
  async expireStale(): Promise<number> {
    const { store, clock } = this.deps;
    const leaseMs = this.deps.executionLeaseMs ?? EXECUTION_LEASE_MS;
    let n = 0;
    for (const a of await store.approvals.expiredPending(clock())) if (await this.expire(a)) n++;
    for (const a of await store.approvals.executingSince(new Date(clock().getTime() - leaseMs))) {
      const recovered = await this.move(
        a,
        ["executing"],
        "failed",
        { error: INTERRUPTED_REASON },
        {
          actor: { slack: null },
          action: "disable.interrupted",
          outcome: "failed",
          details: { approval: a.id, reason: INTERRUPTED_REASON, lease_ms: leaseMs },
        },
      );
      const connection = recovered ? await store.connections.get(a.connectionId) : undefined;
      if (connection) await this.updateCard(a, connection, { kind: "interrupted" });
      if (recovered) n++;
    }
    return n;
  }

  /**
   * Moves the request and audits the move in one transaction; false, with nothing written, when it
   * was no longer in `from` (another click, replica or sweep got there first).
   */
  private move(
    a: Approval,
    from: Approval["status"][],
    to: Approval["status"],
    fields: Parameters<FlowStore["approvals"]["transition"]>[3],
    entry: Omit<AuditInput, "target">,
  ): Promise<boolean> {
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.approvals.transition(a.id, from, to, fields))) return false;
      await tx.audit.append({ ...entry, target: a.org });
      return true;
    });
  }

  private clickAuthorizer(): ClickAuthorizer {
    return { admins: this.deps.store.admins, ghes: this.deps.ghes, refusals: this.refusals };
  }

  /** The clicker's admin record (checked live), or the refusal to show them, audited as `action` on the request. */
  private authorizeClick(a: Approval, click: { slackUserId: string; action: string; doing: string }): Promise<AdminIdentity | Refusal> {
    return authorizeClick(this.clickAuthorizer(), { ...click, target: a.org, details: { approval: a.id } });
  }

  /**
   * Slack did not take the card (the bot is not in the admin channel, or Slack is down): without
   * it nobody can approve, and the request would only block another one until it expired. It is
   * withdrawn, audited, and the requester told why.
   */
  private async withdrawUnposted(a: Approval, named: string): Promise<Message> {
    const channel = this.deps.notifier.adminChannel;
    const card = "the disconnect card";
    await this.move(a, ["pending"], "cancelled", undefined, {
      actor: { slack: null },
      action: "disable.withdrawn",
      outcome: "failed",
      details: { approval: a.id, reason: `${card} could not be posted in <#${channel}>` },
    });
    return cardNotPostedMessage({ card, channel, unchanged: `${a.org} stays connected.`, command: `disable ${named}` });
  }

  private async expire(a: Approval): Promise<boolean> {
    const { store } = this.deps;
    const expired = await this.move(a, ["pending"], "expired", undefined, {
      actor: { slack: null },
      action: "disable.expired",
      outcome: "failed",
      details: { approval: a.id, expired_at: a.expiresAt },
    });
    const connection = await store.connections.get(a.connectionId);
    if (expired && connection) await this.updateCard(a, connection, { kind: "expired" });
    return expired;
  }

  private notPending(a: Approval): string {
    switch (a.status) {
      case "approved":
      case "executing":
      case "done":
        return `This disconnect was already approved by <@${a.decidedBySlack}> at ${a.decidedAt ? when(a.decidedAt) : "an earlier moment"}.`;
      case "failed":
        return a.error === INTERRUPTED_REASON
          ? `This disconnect was approved by <@${a.decidedBySlack}>, but ${INTERRUPTED_REASON.charAt(0).toLowerCase()}${INTERRUPTED_REASON.slice(1, -1)}. Use Retry or “Delete local credentials anyway” on the card.`
          : `This disconnect was approved by <@${a.decidedBySlack}>, but GitHub failed: ${a.error ?? "unknown error"}. Use Retry or “Delete local credentials anyway” on the card.`;
      case "cancelled":
        return `This request was cancelled by <@${a.decidedBySlack}>.`;
      case "expired":
        return `This request expired at ${when(a.expiresAt)}.`;
      case "stale":
        return `This request is no longer valid: ${a.error ?? "the connection changed"}.`;
      default:
        return "This request is still waiting for approval.";
    }
  }
}
