// Governed changes of GHES's native GitHub Connect features (license sync, Dependabot, actions from
// GitHub.com, unified contributions). GitHub offers no API to switch them, so ghconnect governs
// the decision instead: a card with what turns on, the data that starts flowing and the
// prerequisites checked live; approval under the disconnect's policy (self|peer) and expiry; then
// the exact settings link, and a wait of its own for proof. Proof is the matching audit event
// where GitHub publishes one (none of these four today, see events.ts), otherwise the requester's
// confirmation, audited as confirmed by a person. Nothing is recorded as done without one of them.
import { randomUUID } from "node:crypto";
import { type AdminIdentity, authorizeAdmin, isRequester, requestedAsYou } from "../authorize.js";
import type { Clock } from "../clock.js";
import { when } from "../enable-card.js";
import { OperationInFlight } from "../errors.js";
import { type FeatureName, findFeature } from "../features.js";
import { type Message, refusalMessage, simpleMessage } from "../message.js";
import type { FlowStore, GhesGateway, Notifier } from "../ports.js";
import type { CheckResult } from "../preflight.js";
import { authorizeClick, type InfoLog, isRefusal, type Refusal, RefusalLog, refuseClick } from "../refusals.js";
import { cardNotPostedMessage } from "../replies.js";
import { FEATURE_EVENTS, type NativeEvent, type NativeState } from "./events.js";
import { type FeatureCardStage, featureCard } from "./feature-card.js";
import { NativePrerequisitesFailed } from "./ports.js";

/** How long an approved change waits for its event or confirmation. */
export const NATIVE_WAIT_MS = 30 * 60_000;

export type NativeRequestStatus = "pending" | "awaiting" | "verified" | "confirmed" | "not_seen" | "cancelled" | "expired";

export interface NativeRequest {
  id: string;
  feature: FeatureName;
  action: "enable" | "disable";
  policy: "self" | "peer";
  status: NativeRequestStatus;
  requestedBySlack: string;
  /** The GHES login the requester was an admin as when they asked; null on requests made before it was kept. */
  requestedByGhes: string | null;
  /** The requester's proven GHES user id when they asked (it survives renames); null before it was kept or with no GHES link. */
  requestedByGhesId: number | null;
  requestedAt: string;
  /** Until approval: when the request expires; after: until when the change is waited for. */
  expiresAt: string;
  decidedBySlack: string | null;
  decidedAt: string | null;
  settledAt: string | null;
  /** The Slack user who confirmed, or the id of the audit event that verified. */
  settledBy: string | null;
  card: { channel: string; ts: string } | null;
}

export interface NativeRequestStore {
  create(
    r: Pick<
      NativeRequest,
      "id" | "feature" | "action" | "policy" | "requestedBySlack" | "requestedByGhes" | "requestedByGhesId" | "requestedAt" | "expiresAt"
    >,
  ): Promise<void>;
  get(id: string): Promise<NativeRequest | undefined>;
  /** The request for this feature still pending or awaiting, if any. */
  open(feature: string): Promise<NativeRequest | undefined>;
  awaiting(): Promise<NativeRequest[]>;
  setCard(id: string, card: { channel: string; ts: string }): Promise<void>;
  /** pending → awaiting by `by`, if unexpired; true for the one winner. */
  approve(id: string, by: string, waitUntil: string): Promise<boolean>;
  settle(id: string, from: NativeRequestStatus[], to: NativeRequestStatus, by: string | null): Promise<boolean>;
  /** Requests pending or awaiting past their expiry. */
  lapsed(now: Date): Promise<NativeRequest[]>;
}

export interface GovernedDeps {
  /** The requests are store.nativeRequests: each move is written with its audit entry in one transaction. */
  store: FlowStore;
  ghes: GhesGateway;
  notifier: Notifier;
  clock: Clock;
  policy: "self" | "peer";
  ttlMs: number;
  /** GHES's GitHub Connect settings page: https://GHES/enterprises/SLUG/settings/dotcom_connection. */
  settingsUrl: string;
  /** Native Connect as the watcher saw it; undefined when it is not watched (GHES_ENTERPRISE unset). */
  nativeState(): Promise<NativeState | undefined>;
  /** GHES Actions for the enterprise, live: on, or why not. */
  actionsEnabled(): Promise<{ ok: boolean; detail: string }>;
  /** The audit event that proves each toggle; GitHub's published list (FEATURE_EVENTS) unless told. */
  featureEvents?: typeof FEATURE_EVENTS;
  /** Where refused clicks that are only counted (not audited one by one) are logged. */
  log?: InfoLog;
}

/** An event stamped this long before the request still proves it (GHES's clock may lag the bot's). */
export const EVENT_SKEW_MS = 5 * 60_000;

/** The admin who clicked on a request's card, as its audit entries name them. */
type Clicker = { slack: string; ghes: string };

export class GovernedFeatures {
  /** Refused clicks on a card: coalesced per clicker, request and reason (see refusedClick). */
  private readonly refusals: RefusalLog;

  constructor(private readonly deps: GovernedDeps) {
    this.refusals = new RefusalLog({ store: deps.store, log: deps.log });
  }

  private expectedEvent(r: Pick<NativeRequest, "feature" | "action">): string | null {
    return (this.deps.featureEvents ?? FEATURE_EVENTS)[r.feature]?.[r.action] ?? null;
  }

  private async updateCard(r: NativeRequest, stage: FeatureCardStage): Promise<void> {
    if (r.card) await this.deps.notifier.update(r.card, featureCard(r, stage));
  }

  /** The prerequisites, checked now: GHES answers (its version), native Connect is on, and the feature's own. */
  async prerequisites(feature: FeatureName, action: "enable" | "disable"): Promise<CheckResult[]> {
    const { ghes } = this.deps;
    const checks: CheckResult[] = [];
    try {
      checks.push({ name: "GHES", status: "ok", detail: `answers, version ${await ghes.version()}` });
    } catch (error) {
      checks.push({ name: "GHES", status: "fail", detail: (error as Error).message });
    }
    if (action === "disable") return checks;
    const state = await this.deps.nativeState();
    checks.push(
      state === undefined
        ? { name: "GitHub Connect in GHES", status: "warn", detail: "not watched (GHES_ENTERPRISE is not set), so not checked" }
        : state.connected
          ? {
              name: "GitHub Connect in GHES",
              status: "ok",
              detail: `on${state.account ? `, connected to ${state.account}` : ""} since ${when(state.since as string)}`,
            }
          : {
              name: "GitHub Connect in GHES",
              status: "fail",
              detail: "GHES's audit log shows no active GitHub Connect; its features need it — enable GitHub Connect in GHES first",
            },
    );
    if (feature === "dependabot")
      checks.push({
        name: "Dependency graph",
        status: "warn",
        detail: "GHES exposes no API for it: check Management Console → Security → Dependency graph is on",
      });
    if (feature === "actions") {
      const actions = await this.deps.actionsEnabled();
      checks.push({ name: "GitHub Actions", status: actions.ok ? "ok" : "fail", detail: actions.detail });
    }
    return checks;
  }

  /** `feature enable|disable NAME` for a native feature: posts the card. */
  async request(action: "enable" | "disable", feature: FeatureName, slackUserId: string): Promise<Message> {
    const { store, clock, notifier } = this.deps;
    const requests = store.nativeRequests;
    const info = findFeature(feature);
    const admin = await authorizeAdmin(
      store.admins,
      this.deps.ghes,
      slackUserId,
      `${action === "enable" ? "turn on" : "turn off"} ${feature}`,
    );
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    const open = await requests.open(feature);
    if (open && Date.parse(open.expiresAt) > clock().getTime()) {
      throw new OperationInFlight(
        `A change of ${info?.title ?? feature} requested by <@${open.requestedBySlack}> at ${when(open.requestedAt)} is still ${open.status === "pending" ? "waiting for approval" : "waiting for the change in GHES"}.`,
        "Use its card in the admin channel.",
        { ghes: admin.ghesLogin },
      );
    }
    const checks = await this.prerequisites(feature, action);
    const failed = checks.filter((c) => c.status === "fail");
    if (failed.length) {
      await store.appendAudit({
        actor,
        action: "native_feature.requested",
        target: feature,
        outcome: "refused",
        details: { verb: action, reason: failed.map((c) => `${c.name}: ${c.detail}`).join("; ") },
      });
      throw new NativePrerequisitesFailed(
        `${info?.title ?? feature} cannot be ${action === "enable" ? "turned on" : "turned off"} now: ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}.`,
        "Nothing was posted or changed. Fix that, then ask again.",
        { ghes: admin.ghesLogin },
      );
    }
    const now = clock();
    const id = randomUUID();
    // The request and its audit entry are one transaction: neither exists without the other.
    await store.transaction(async (tx) => {
      await tx.nativeRequests.create({
        id,
        feature,
        action,
        policy: this.deps.policy,
        requestedBySlack: slackUserId,
        requestedByGhes: admin.ghesLogin,
        requestedByGhesId: admin.ghesId,
        requestedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.deps.ttlMs).toISOString(),
      });
      await tx.audit.append({
        actor,
        action: "native_feature.requested",
        target: feature,
        outcome: "pending",
        details: { request: id, verb: action, policy: this.deps.policy, checks: checks.map((c) => `${c.status}:${c.name}`) },
      });
    });
    const created = (await requests.get(id)) as NativeRequest;
    const card = await notifier.post(notifier.adminChannel, featureCard(created, { kind: "pending", checks }));
    if (!card) return this.withdrawUnposted(created, `feature ${action} ${feature}`);
    await requests.setCard(id, card);
    return simpleMessage(
      `Posted the request to ${action === "enable" ? "turn on" : "turn off"} ${info?.title ?? feature} in <#${notifier.adminChannel}>. ${
        this.deps.policy === "peer" ? "A second admin must approve it." : "Any admin, you included, can approve it there."
      } It expires at ${when(created.expiresAt)}.`,
    );
  }

  /** The Approve button: re-authorized live, policy applied, claimed once. */
  async approve(id: string, slackUserId: string): Promise<Message> {
    const { store, clock } = this.deps;
    const requests = store.nativeRequests;
    const r = await requests.get(id);
    if (!r) return simpleMessage("This request no longer exists. Nothing was changed.");
    const admin = await this.authorizeClick(r, slackUserId, "approve");
    if (isRefusal(admin)) return refusalMessage(admin);
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    if (r.status !== "pending") return this.refuse(r, actor, { code: "not_pending", reason: this.notPending(r) });
    if (r.policy === "peer" && slackUserId === r.requestedBySlack)
      return this.refuse(r, actor, {
        code: "same_person",
        reason: `This change needs a second admin: <@${r.requestedBySlack}> asked for it (GHCONNECT_DISCONNECT_APPROVAL=peer).`,
      });
    // Four eyes are two people, not two Slack accounts: the requester's GHES account counts too, the
    // one kept when they asked and the one their entry names now (the same rule as disconnects).
    if (r.policy === "peer" && (await isRequester(this.deps.store, r, admin)))
      return this.refuse(r, actor, {
        code: "same_person",
        reason: `This change needs a second admin, another person: <@${r.requestedBySlack}> asked for it ${requestedAsYou(r, admin)}, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`,
      });
    if (Date.parse(r.expiresAt) <= clock().getTime()) {
      await this.lapse(r);
      return this.refuse(r, actor, { code: "expired", reason: `This request expired at ${when(r.expiresAt)}.` });
    }
    const waitUntil = new Date(clock().getTime() + NATIVE_WAIT_MS).toISOString();
    const won = await store.transaction(async (tx) => {
      if (!(await tx.nativeRequests.approve(id, slackUserId, waitUntil))) return false;
      await tx.audit.append({
        actor,
        action: "native_feature.approved",
        target: r.feature,
        outcome: "ok",
        details: { request: id, verb: r.action, requested_by: r.requestedBySlack, wait_until: waitUntil },
      });
      return true;
    });
    if (!won) return this.refuse(r, actor, { code: "not_pending", reason: this.notPending((await requests.get(id)) as NativeRequest) });
    const approved = (await requests.get(id)) as NativeRequest;
    const expectedEvent = this.expectedEvent(r);
    await this.updateCard(approved, { kind: "awaiting", settingsUrl: this.deps.settingsUrl, expectedEvent });
    return simpleMessage(
      `✅ Approved. <@${r.requestedBySlack}> ${r.action === "enable" ? "turns it on" : "turns it off"} at ${this.deps.settingsUrl}`,
      expectedEvent
        ? `ghconnect records it when GHES's audit log shows \`${expectedEvent}\` (until ${when(waitUntil)}).`
        : `GitHub publishes no audit event for it: the requester presses Confirm done on the card once GHES shows it (until ${when(waitUntil)}).`,
    );
  }

  /** The Confirm done button, where GitHub publishes no event: only the requester, once. */
  async confirm(id: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const requests = store.nativeRequests;
    const r = await requests.get(id);
    if (!r) return simpleMessage("This request no longer exists. Nothing was changed.");
    const admin = await this.authorizeClick(r, slackUserId, "confirm");
    if (isRefusal(admin)) return refusalMessage(admin);
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    if (slackUserId !== r.requestedBySlack)
      return this.refuse(r, actor, {
        code: "not_requester",
        reason: `Only <@${r.requestedBySlack}>, who makes the change in GHES, can confirm it.`,
      });
    if (r.status !== "awaiting" || this.expectedEvent(r)) return this.refuse(r, actor, { code: "not_pending", reason: this.notPending(r) });
    if (Date.parse(r.expiresAt) <= this.deps.clock().getTime()) {
      await this.lapse(r);
      return this.refuse(r, actor, { code: "expired", reason: "The wait for this change ended: nothing was recorded as done." });
    }
    const enabled = r.action === "enable";
    const won = await store.transaction(async (tx) => {
      if (!(await tx.nativeRequests.settle(id, ["awaiting"], "confirmed", slackUserId))) return false;
      await tx.features.set(r.feature, enabled, slackUserId);
      await tx.audit.append({
        actor,
        action: enabled ? "feature.enabled" : "feature.disabled",
        target: r.feature,
        outcome: "ok",
        details: { native: true, request: id, proof: "confirmed_by_person", approved_by: r.decidedBySlack },
      });
      return true;
    });
    if (!won) return this.refuse(r, actor, { code: "not_pending", reason: this.notPending((await requests.get(id)) as NativeRequest) });
    const settled = (await requests.get(id)) as NativeRequest;
    await this.updateCard(settled, { kind: "confirmed", by: slackUserId, at: settled.settledAt as string });
    return simpleMessage(`Recorded: ${findFeature(r.feature)?.title ?? r.feature} is ${enabled ? "on" : "off"} in GHES, confirmed by you.`);
  }

  /** The Cancel button, while pending. */
  async cancel(id: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const r = await store.nativeRequests.get(id);
    if (!r) return simpleMessage("This request no longer exists.");
    const admin = await this.authorizeClick(r, slackUserId, "cancel");
    if (isRefusal(admin)) return refusalMessage(admin);
    const won = await store.transaction(async (tx) => {
      if (!(await tx.nativeRequests.settle(id, ["pending"], "cancelled", slackUserId))) return false;
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "native_feature.cancelled",
        target: r.feature,
        outcome: "ok",
        details: { request: id },
      });
      return true;
    });
    // Another click, replica or the sweep moved it first: say what it is now, not what it was.
    if (!won) return simpleMessage(this.notPending((await store.nativeRequests.get(id)) as NativeRequest));
    await this.updateCard(r, { kind: "cancelled", by: slackUserId });
    return simpleMessage("Cancelled. Nothing was changed.");
  }

  /**
   * Slack did not take the card (the bot is not in the admin channel, or Slack is down): without
   * it nobody can approve, and the request would only block another one for the feature until it
   * lapsed. It is withdrawn, audited, and the requester told why.
   */
  private async withdrawUnposted(r: NativeRequest, command: string): Promise<Message> {
    const channel = this.deps.notifier.adminChannel;
    const card = "the request's card";
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.nativeRequests.settle(r.id, ["pending"], "cancelled", null))) return;
      await tx.audit.append({
        actor: { slack: null },
        action: "native_feature.withdrawn",
        target: r.feature,
        outcome: "failed",
        details: { request: r.id, reason: `${card} could not be posted in <#${channel}>` },
      });
    });
    return cardNotPostedMessage({ card, channel, unchanged: "Nothing was changed.", command });
  }

  /** The watcher hands each new event here first: the awaiting request it proves takes it. */
  async takeEvent(event: NativeEvent): Promise<boolean> {
    for (const r of await this.deps.store.nativeRequests.awaiting()) {
      if (this.expectedEvent(r) !== event.action) continue;
      // A change made before this request was asked for is not its proof.
      if (Date.parse(event.at) < Date.parse(r.requestedAt) - EVENT_SKEW_MS) continue;
      const enabled = r.action === "enable";
      const won = await this.deps.store.transaction(async (tx) => {
        if (!(await tx.nativeRequests.settle(r.id, ["awaiting"], "verified", event.id))) return false;
        await tx.features.set(r.feature, enabled, r.requestedBySlack);
        await tx.audit.append({
          actor: { slack: null, ghes: event.actor },
          action: enabled ? "feature.enabled" : "feature.disabled",
          target: r.feature,
          outcome: "ok",
          details: { native: true, request: r.id, proof: "audit_event", event_id: event.id, event_at: event.at },
        });
        return true;
      });
      if (!won) continue;
      await this.updateCard(r, { kind: "verified", eventId: event.id, eventAt: event.at, eventAction: event.action });
      return true;
    }
    return false;
  }

  /** The sweep: pending requests expire, awaiting ones end "not seen: nothing recorded as done". */
  async expireStale(): Promise<number> {
    let n = 0;
    for (const r of await this.deps.store.nativeRequests.lapsed(this.deps.clock())) if (await this.lapse(r)) n++;
    return n;
  }

  private async lapse(r: NativeRequest): Promise<boolean> {
    const to = r.status === "pending" ? "expired" : "not_seen";
    const won = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.nativeRequests.settle(r.id, [r.status], to, null))) return false;
      await tx.audit.append({
        actor: { slack: null },
        action: to === "expired" ? "native_feature.expired" : "native_feature.not_seen",
        target: r.feature,
        outcome: "failed",
        details: {
          request: r.id,
          verb: r.action,
          reason: to === "expired" ? "not approved in time" : "the change was not seen in time; nothing recorded as done",
        },
      });
      return true;
    });
    if (!won) return false;
    await this.updateCard(r, to === "expired" ? { kind: "expired" } : { kind: "not_seen", expectedEvent: this.expectedEvent(r) });
    return true;
  }

  /** The clicker as an admin (checked live), or the refusal to show them, counted as `native_feature.VERB` on the request. */
  private authorizeClick(r: NativeRequest, slackUserId: string, verb: "approve" | "confirm" | "cancel"): Promise<AdminIdentity | Refusal> {
    return authorizeClick(
      { admins: this.deps.store.admins, ghes: this.deps.ghes, refusals: this.refusals },
      {
        slackUserId,
        action: `native_feature.${verb}`,
        target: r.feature,
        details: { request: r.id },
        doing: `${verb} the change of ${r.feature}`,
      },
    );
  }

  /**
   * An admin's click the request's own rules refuse (policy, state, expiry): counted as
   * `native_feature.click`, which the admin channel shows with its reason; nothing was changed.
   */
  private async refuse(r: NativeRequest, actor: Clicker, refusal: Pick<Refusal, "code" | "reason">): Promise<Message> {
    const click = { slackUserId: actor.slack, action: "native_feature.click", target: r.feature, details: { request: r.id } };
    return refusalMessage(await refuseClick(this.refusals, click, { ...refusal, actor }), { nothingChanged: true });
  }

  private notPending(r: NativeRequest): string {
    switch (r.status) {
      case "awaiting":
        return `This change was already approved by <@${r.decidedBySlack}> at ${r.decidedAt ? when(r.decidedAt) : "an earlier moment"}.`;
      case "verified":
        return "This change was already verified by GHES's audit event.";
      case "confirmed":
        return `This change was already confirmed by <@${r.settledBy}>.`;
      case "not_seen":
        return "The wait for this change ended: nothing was recorded as done.";
      case "cancelled":
        return `This request was cancelled by <@${r.settledBy}>.`;
      case "expired":
        return `This request expired at ${when(r.expiresAt)}.`;
      default:
        return "This request is still waiting for approval.";
    }
  }
}
