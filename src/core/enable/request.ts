// The Slack side of enable: `/ghconnect enable ORG` (authorize, reserve the server's one
// operation, preflight, then the addendum card), the "Accept addendum" button that opens the
// GitHub step, and "Cancel".
import { randomBytes, randomUUID } from "node:crypto";
import type { Actor } from "../audit.js";
import { type AdminIdentity, authorizeAdmin } from "../authorize.js";
import { ADDENDUM_VERSION, enableArgument, enableCard, when } from "../enable-card.js";
import { AlreadyConnected, NotAuthorized, OperationInFlight } from "../errors.js";
import { githubSiteName } from "../github-hosts.js";
import { type Message, refusalMessage, simpleMessage } from "../message.js";
import { type AccountKind, IN_FLIGHT, type Operation } from "../model.js";
import { runPreflight } from "../preflight.js";
import { asRefusal, authorizeClick, isRefusal, type Refusal, refuseClick } from "../refusals.js";
import { type EnableContext, updateCard } from "./context.js";
import { endOperation } from "./end.js";
import { expire } from "./expiry.js";
import { continueOnGitHubReply, describeWait, preflightReply, registrationReply, statusExplanation } from "./wording.js";

export interface EnableRequest {
  account: string;
  accountKind: AccountKind;
  slackUserId: string;
  responseUrl?: string;
}

/** `GHES Connect <host> <suffix>`: at most 34 characters, unique per attempt. */
export function appNameFor(ghesUrl: string, suffix: string): string {
  const prefix = "GHES Connect ";
  const room = 34 - prefix.length - 1 - suffix.length;
  const host = new URL(ghesUrl).hostname;
  return `${prefix}${host.length > room ? host.slice(0, room).replace(/[.-]+$/, "") : host} ${suffix}`;
}

/** `/ghconnect enable ORG` or `enable enterprise:SLUG`: authorize, refuse if busy, preflight, then the addendum card. */
export async function start(ctx: EnableContext, request: EnableRequest): Promise<Message> {
  const { admin, op: reserved } = await reserve(ctx, request);
  const op = await postCard(ctx, reserved);
  const actor: Actor = { slack: request.slackUserId, ghes: admin.ghesLogin };
  return preflight(ctx, op, actor);
}

/** The requester authorized, the server not connected, and the one in-flight operation reserved. */
async function reserve(ctx: EnableContext, request: EnableRequest): Promise<{ admin: AdminIdentity; op: Operation }> {
  const { store, ghes, clock, config } = ctx.deps;
  const { account: org, accountKind, slackUserId, responseUrl } = request;
  const admin = await authorizeAdmin(store.admins, ghes, slackUserId, `enable GitHub Connect for ${org}`);
  const active = await store.connections.active();
  if (active) {
    throw new AlreadyConnected(
      `This server is already connected to ${active.org} since ${when(active.connectedAt)}, by <@${active.connectedBy.slack}> (GHES \`${active.connectedBy.ghes}\`, github.com \`${active.connectedBy.github}\`).`,
      active.org === org
        ? "Nothing to do. `/ghconnect status` shows the connection."
        : `To connect to ${org} instead, first \`/ghconnect disable ${active.org}\`.`,
      { ghes: admin.ghesLogin },
    );
  }
  const id = randomUUID();
  const appName = appNameFor(config.ghesUrl, randomBytes(2).toString("hex"));
  const started = await store.transaction(async (tx) => {
    const ok = await tx.operations.startIfIdle({
      id,
      kind: "enable",
      org,
      accountKind,
      requestedBySlack: slackUserId,
      requestedByGhes: admin.ghesLogin,
      responseUrl: responseUrl ?? null,
      appName,
      expiresAt: new Date(clock().getTime() + config.addendumTtlMs),
    });
    if (ok)
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "enable.requested",
        target: org,
        outcome: "pending",
        details: { operation: id, app_name: appName, account_kind: accountKind },
      });
    return ok;
  });
  if (!started) {
    const busy = await store.operations.inFlight();
    throw new OperationInFlight(
      busy
        ? `An ${busy.kind} of ${busy.org} started by <@${busy.requestedBySlack}> at ${when(busy.createdAt)} is ${describeWait(busy.status)}; it expires at ${when(busy.expiresAt)}.`
        : "Another operation is in flight for this server.",
      "Only one enable or disable runs at a time. Wait for it to finish or expire, or cancel it on its card.",
      { ghes: admin.ghesLogin },
    );
  }
  return { admin, op: (await store.operations.get(id)) as Operation };
}

/** The operation's card in the admin channel, remembered on the operation. */
async function postCard(ctx: EnableContext, op: Operation): Promise<Operation> {
  const { store, notifier, config } = ctx.deps;
  const card = await notifier.post(
    notifier.adminChannel,
    enableCard(op, { kind: "preflight", checks: [] }, githubSiteName(config.githubUrl)),
  );
  if (!card) return op;
  await store.operations.setCard(op.id, card);
  return { ...op, card };
}

/** The preflight checks, shown on the card as they run; then the addendum, or the operation's end. */
async function preflight(ctx: EnableContext, op: Operation, actor: Actor): Promise<Message> {
  const { store, ghes, manage, dotcom, clock, config } = ctx.deps;
  const { id, org } = op;
  const outcome = await runPreflight(
    { ghes, manage, dotcom, uploadsUrl: config.uploadsUrl, proxy: config.proxy, noProxy: config.noProxy, now: clock },
    async (checks) => {
      await updateCard(ctx, op, { kind: "preflight", checks });
    },
  );
  const summary = outcome.results.map((r) => ({ check: r.name, status: r.status, detail: r.detail }));
  if (!outcome.passed || !outcome.facts) {
    const failed = await endOperation(ctx, {
      op,
      status: "failed",
      actor,
      action: "enable.preflight",
      details: { checks: summary },
      error: "preflight failed",
    });
    if (failed) await updateCard(ctx, failed, { kind: "preflight_failed", checks: outcome.results });
    return preflightReply(org, outcome.results, false);
  }
  const ready = await store.transaction(async (tx) => {
    const next = await tx.operations.transition(id, ["preflight"], { status: "awaiting_addendum", facts: outcome.facts });
    if (next)
      await tx.audit.append({
        actor,
        action: "enable.preflight",
        target: org,
        outcome: "ok",
        details: { operation: id, checks: summary },
      });
    return next;
  });
  if (!ready) return simpleMessage(`The enable of ${org} was cancelled or expired while its preflight ran. Nothing was changed.`);
  await updateCard(ctx, ready, { kind: "addendum", checks: outcome.results });
  return preflightReply(org, outcome.results, true);
}

/** "Accept addendum and continue": only the requester, live-authorized, exactly once. */
export async function acceptAddendum(ctx: EnableContext, operationId: string, slackUserId: string): Promise<Message> {
  const { store, config } = ctx.deps;
  const op = await store.operations.get(operationId);
  if (op?.kind !== "enable") return simpleMessage("This enable request no longer exists. Run `/ghconnect enable ORG` to start one.");
  if (op.status !== "awaiting_addendum") return simpleMessage(statusExplanation(op));
  const accepter = await authorizeAccepter(ctx, op, slackUserId);
  // The requester's own refusal (not an admin now) reads as every command's; another person's says nothing changed.
  if (isRefusal(accepter)) return refusalMessage(accepter, { nothingChanged: accepter.code === "not_requester" });
  if (Date.parse(op.expiresAt) <= ctx.now().getTime()) {
    await expire(ctx, op);
    return simpleMessage(`This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${enableArgument(op)}\` again.`);
  }
  const state = randomBytes(32).toString("base64url");
  const acceptedAt = ctx.now().toISOString();
  const next = await openGitHubStep(ctx, { op, state, acceptedAt, actor: { slack: slackUserId, ghes: accepter.ghesLogin } });
  if (!next) {
    const current = (await store.operations.get(op.id)) as Operation;
    return simpleMessage(statusExplanation(current));
  }
  await updateCard(ctx, next, { kind: "on_github", acceptedBy: slackUserId, acceptedAt });
  if (op.accountKind === "enterprise") return registrationReply(next, `${config.pages.register}?state=${state}`);
  return continueOnGitHubReply(next, `${config.pages.manifest}?state=${state}`, githubSiteName(config.githubUrl));
}

/** The requester, still an admin now; anyone else's click is refused and counted on the audit trail. */
async function authorizeAccepter(ctx: EnableContext, op: Operation, slackUserId: string): Promise<AdminIdentity | Refusal> {
  const { store, ghes } = ctx.deps;
  const click = { slackUserId, action: "enable.addendum_accepted", target: op.org, details: { operation: op.id } };
  if (slackUserId !== op.requestedBySlack)
    return refuseClick(ctx.refusals, click, {
      code: "not_requester",
      reason: `Only <@${op.requestedBySlack}>, who asked to enable ${op.org}, can accept the addendum for it.`,
    });
  return authorizeClick({ admins: store.admins, ghes, refusals: ctx.refusals }, { ...click, doing: `accept the addendum for ${op.org}` });
}

/** awaiting_addendum → awaiting_github with the addendum recorded and the GitHub step's state issued. */
async function openGitHubStep(
  ctx: EnableContext,
  step: { op: Operation; state: string; acceptedAt: string; actor: Actor },
): Promise<Operation | undefined> {
  const { store, config } = ctx.deps;
  const { op, state, acceptedAt } = step;
  return store.transaction(async (tx) => {
    const moved = await tx.operations.transition(
      op.id,
      ["awaiting_addendum"],
      {
        status: "awaiting_github",
        addendumVersion: ADDENDUM_VERSION,
        addendumAcceptedAt: acceptedAt,
        expiresAt: new Date(ctx.now().getTime() + config.githubTtlMs),
      },
      op.version,
    );
    if (!moved) return undefined;
    await tx.states.create(state, op.id, op.accountKind === "enterprise" ? "register" : "manifest", config.githubTtlMs);
    await tx.audit.append({
      actor: step.actor,
      action: "enable.addendum_accepted",
      target: op.org,
      outcome: "ok",
      details: { operation: op.id, addendum_version: ADDENDUM_VERSION, accepted_at: acceptedAt },
    });
    return moved;
  });
}

/** "Cancel": any admin, or the requester; exactly once. */
export async function cancel(ctx: EnableContext, operationId: string, slackUserId: string): Promise<Message> {
  const { store, ghes } = ctx.deps;
  const op = await store.operations.get(operationId);
  if (!op) return simpleMessage("This request no longer exists.");
  if (!IN_FLIGHT.includes(op.status)) return simpleMessage(statusExplanation(op));
  // A completion holding its lease is left to finish; once the lease ran out, Cancel ends it.
  const leaseLapsed = op.status === "completing" && Date.parse(op.expiresAt) <= ctx.now().getTime();
  if (op.status === "completing" && !leaseLapsed) return simpleMessage(statusExplanation(op));
  let actor: Actor = { slack: slackUserId };
  if (slackUserId !== op.requestedBySlack) {
    try {
      const admin = await authorizeAdmin(store.admins, ghes, slackUserId, `cancel the enable of ${op.org}`);
      actor = { slack: slackUserId, ghes: admin.ghesLogin };
    } catch (error) {
      if (error instanceof NotAuthorized) return refusalMessage(asRefusal(error));
      throw error;
    }
  }
  const ended = await endOperation(ctx, {
    op,
    status: "cancelled",
    actor,
    action: "enable.cancelled",
    details: leaseLapsed ? { was: "completing", lease_ended_at: op.expiresAt } : {},
    version: leaseLapsed ? op.version : undefined,
  });
  if (!ended) return simpleMessage(statusExplanation((await store.operations.get(op.id)) as Operation));
  await updateCard(ctx, ended, { kind: "cancelled", by: slackUserId });
  return simpleMessage(`Cancelled the enable of ${op.org}. Nothing is connected and no credentials were kept.`);
}
