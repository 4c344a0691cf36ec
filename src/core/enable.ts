// Enable (SPEC §3): from `/ghconnect enable ORG` to a connection record. Every step is a
// conditional state transition on the operation, audited in the same transaction, so a double
// click, a replayed callback or a second replica can never do a step twice, and a failure
// anywhere leaves no half-stored connection.
import { randomBytes, randomUUID } from "node:crypto";
import type { Repos } from "../db/store.js";
import type { Actor, AuditInput } from "./audit.js";
import { authorizeAdmin } from "./authorize.js";
import type { Clock } from "./clock.js";
import { ADDENDUM_VERSION, type CardStage, enableCard, when } from "./enable-card.js";
import { AlreadyConnected, NotAuthorized, OperationInFlight, UserError } from "./errors.js";
import type { Message } from "./message.js";
import { simpleMessage } from "./message.js";
import { IN_FLIGHT, type Operation, type OperationStatus } from "./model.js";
import type { DotcomGateway, GhesGateway, ManageGateway, Notifier, TokenCache } from "./ports.js";
import { type CheckResult, runPreflight } from "./preflight.js";

/** The store as the enable flow uses it (the db layer's repositories, in or out of a transaction). */
export interface FlowStore extends Repos {
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  appendAudit(input: AuditInput): Promise<unknown>;
}

export interface EnableConfig {
  publicUrl: string;
  githubUrl: string;
  ghesUrl: string;
  uploadsUrl: string;
  proxy?: string;
  addendumTtlMs: number;
  githubTtlMs: number;
}

export interface EnableDeps {
  store: FlowStore;
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  clock: Clock;
  config: EnableConfig;
  tokenCache(owner: { operationId: string } | { connectionId: string }): TokenCache;
}

export type PageResult =
  | { kind: "manifest"; action: string; manifest: Record<string, unknown>; org: string }
  | { kind: "redirect"; location: string }
  | { kind: "page"; status: number; tone: "ok" | "error"; title: string; message: string; link?: { href: string; label: string } };

export const CALLBACK_PATH = "/ghconnect/github/callback";
export const SETUP_PATH = "/ghconnect/github/setup";
export const MANIFEST_PATH = "/ghconnect/manifest";

/** GitHub App permissions: the least the enabled features need. */
export const APP_PERMISSIONS = { metadata: "read", members: "read", issues: "read", pull_requests: "read" } as const;

/** `GHES Connect <host> <suffix>`: at most 34 characters, unique per attempt. */
export function appNameFor(ghesUrl: string, suffix: string): string {
  const prefix = "GHES Connect ";
  const room = 34 - prefix.length - 1 - suffix.length;
  const host = new URL(ghesUrl).hostname;
  return `${prefix}${host.length > room ? host.slice(0, room).replace(/[.-]+$/, "") : host} ${suffix}`;
}

const errorPage = (status: number, title: string, message: string, link?: { href: string; label: string }): PageResult => ({
  kind: "page",
  status,
  tone: "error",
  title,
  message,
  link,
});

export class EnableFlow {
  constructor(private readonly deps: EnableDeps) {}

  private now(): Date {
    return this.deps.clock();
  }

  private settingsUrl(owner: string, slug: string): string {
    return `${this.deps.config.githubUrl}/organizations/${owner}/settings/apps/${slug}`;
  }

  private async updateCard(op: Operation, stage: CardStage): Promise<void> {
    if (op.card) await this.deps.notifier.update(op.card, enableCard(op, stage)).catch(() => {});
  }

  private async replyToRequester(op: Operation, message: Message): Promise<void> {
    if (op.responseUrl) await this.deps.notifier.reply(op.responseUrl, message).catch(() => {});
  }

  /** `/ghconnect enable ORG`: authorize, refuse if busy, preflight, then the addendum card. */
  async request(org: string, slackUserId: string, responseUrl?: string): Promise<Message> {
    const { store, ghes, clock, config } = this.deps;
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
    const actor: Actor = { slack: slackUserId, ghes: admin.ghesLogin };
    const started = await store.transaction(async (tx) => {
      const ok = await tx.operations.startIfIdle({
        id,
        kind: "enable",
        org,
        requestedBySlack: slackUserId,
        requestedByGhes: admin.ghesLogin,
        responseUrl: responseUrl ?? null,
        appName,
        expiresAt: new Date(clock().getTime() + config.addendumTtlMs),
      });
      if (ok)
        await tx.audit.append({
          actor,
          action: "enable.requested",
          target: org,
          outcome: "pending",
          details: { operation: id, app_name: appName },
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
    let op = (await store.operations.get(id)) as Operation;
    const card = await this.deps.notifier.post(this.deps.notifier.adminChannel, enableCard(op, { kind: "preflight", checks: [] }));
    if (card) {
      await store.operations.setCard(id, card);
      op = { ...op, card };
    }

    const outcome = await runPreflight(
      { ghes, manage: this.deps.manage, dotcom: this.deps.dotcom, uploadsUrl: config.uploadsUrl, proxy: config.proxy, now: clock },
      (checks) => this.updateCard(op, { kind: "preflight", checks }),
    );
    const summary = outcome.results.map((r) => ({ check: r.name, status: r.status, detail: r.detail }));
    if (!outcome.passed || !outcome.facts) {
      const failed = await this.endOperation(op, "failed", actor, "enable.preflight", { checks: summary }, "preflight failed");
      if (failed) await this.updateCard(failed, { kind: "preflight_failed", checks: outcome.results });
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
    await this.updateCard(ready, { kind: "addendum", checks: outcome.results });
    return preflightReply(org, outcome.results, true);
  }

  /** "Accept addendum and continue": only the requester, live-authorized, exactly once. */
  async acceptAddendum(operationId: string, slackUserId: string): Promise<Message> {
    const { store, ghes, config } = this.deps;
    const op = await store.operations.get(operationId);
    if (op?.kind !== "enable") return simpleMessage("This enable request no longer exists. Run `/ghconnect enable ORG` to start one.");
    if (op.status !== "awaiting_addendum") return simpleMessage(statusExplanation(op));
    if (slackUserId !== op.requestedBySlack) {
      const reason = `Only <@${op.requestedBySlack}>, who asked to enable ${op.org}, can accept the addendum for it.`;
      await store.appendAudit({
        actor: { slack: slackUserId },
        action: "enable.addendum_accepted",
        target: op.org,
        outcome: "refused",
        details: { operation: op.id, reason },
      });
      return simpleMessage(`:no_entry: ${reason} Nothing was changed.`);
    }
    let admin: { ghesLogin: string };
    try {
      admin = await authorizeAdmin(store.admins, ghes, slackUserId, `accept the addendum for ${op.org}`);
    } catch (error) {
      if (error instanceof NotAuthorized) {
        await store.appendAudit({
          actor: { slack: slackUserId, ...error.actor },
          action: "enable.addendum_accepted",
          target: op.org,
          outcome: "refused",
          details: { operation: op.id, reason: error.message },
        });
        return error.toMessage();
      }
      throw error;
    }
    if (Date.parse(op.expiresAt) <= this.now().getTime()) {
      await this.expire(op);
      return simpleMessage(`This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${op.org}\` again.`);
    }
    const state = randomBytes(32).toString("base64url");
    const acceptedAt = this.now().toISOString();
    const next = await store.transaction(async (tx) => {
      const moved = await tx.operations.transition(
        op.id,
        ["awaiting_addendum"],
        {
          status: "awaiting_github",
          addendumVersion: ADDENDUM_VERSION,
          addendumAcceptedAt: acceptedAt,
          expiresAt: new Date(this.now().getTime() + config.githubTtlMs),
        },
        op.version,
      );
      if (!moved) return undefined;
      await tx.states.create(state, op.id, "manifest", config.githubTtlMs);
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "enable.addendum_accepted",
        target: op.org,
        outcome: "ok",
        details: { operation: op.id, addendum_version: ADDENDUM_VERSION, accepted_at: acceptedAt },
      });
      return moved;
    });
    if (!next) {
      const current = (await store.operations.get(op.id)) as Operation;
      return simpleMessage(statusExplanation(current));
    }
    await this.updateCard(next, { kind: "on_github", acceptedBy: slackUserId, acceptedAt });
    const link = `${config.publicUrl}${MANIFEST_PATH}?state=${state}`;
    return {
      text: `Continue on GitHub to create the app for ${op.org}: ${link}`,
      blocks: [
        {
          kind: "text",
          text: `Addendum accepted. Continue on github.com, signed in as an owner of *${op.org}*: GitHub will show the app to create, then ask you to install it.`,
        },
        { kind: "actions", buttons: [{ action: "link", label: "Continue on GitHub", url: link, style: "primary" }] },
        { kind: "context", text: `This link is yours alone, works once, and expires at ${when(next.expiresAt)}.` },
      ],
    };
  }

  /** "Cancel": any admin, or the requester; exactly once. */
  async cancel(operationId: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const op = await store.operations.get(operationId);
    if (!op) return simpleMessage("This request no longer exists.");
    if (!IN_FLIGHT.includes(op.status) || op.status === "completing") return simpleMessage(statusExplanation(op));
    let actor: Actor = { slack: slackUserId };
    if (slackUserId !== op.requestedBySlack) {
      try {
        const admin = await authorizeAdmin(store.admins, this.deps.ghes, slackUserId, `cancel the enable of ${op.org}`);
        actor = { slack: slackUserId, ghes: admin.ghesLogin };
      } catch (error) {
        if (error instanceof NotAuthorized) return error.toMessage();
        throw error;
      }
    }
    const ended = await this.endOperation(op, "cancelled", actor, "enable.cancelled", {}, undefined);
    if (!ended) return simpleMessage(statusExplanation((await store.operations.get(op.id)) as Operation));
    await this.updateCard(ended, { kind: "cancelled", by: slackUserId });
    return simpleMessage(`Cancelled the enable of ${op.org}. Nothing is connected and no credentials were kept.`);
  }

  /** GET /ghconnect/manifest?state=…: the auto-submitting form that creates the app on GitHub. */
  async manifestPage(state: string | undefined): Promise<PageResult> {
    const { store, config } = this.deps;
    if (!state) return errorPage(400, "Missing state", "This page needs the link ghconnect sent you in Slack.");
    const check = await store.states.peek(state, "manifest");
    if (!check.ok) return stateProblemPage(check.reason);
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_github")
      return errorPage(409, "Not waiting for GitHub", op ? statusExplanation(op) : "This request no longer exists.");
    return {
      kind: "manifest",
      org: op.org,
      action: `${config.githubUrl}/organizations/${encodeURIComponent(op.org)}/settings/apps/new?state=${encodeURIComponent(state)}`,
      manifest: {
        name: op.appName,
        url: config.ghesUrl,
        description: `GitHub Connect for ${new URL(config.ghesUrl).hostname}, managed by ghconnect. Requested by ${op.requestedByGhes ?? op.requestedBySlack}.`,
        public: false,
        redirect_url: `${config.publicUrl}${CALLBACK_PATH}`,
        callback_urls: [`${config.publicUrl}${SETUP_PATH}`],
        request_oauth_on_install: true,
        hook_attributes: { url: `${config.publicUrl}/ghconnect/github/webhook`, active: false },
        default_permissions: APP_PERMISSIONS,
        default_events: [],
      },
    };
  }

  /** GET /ghconnect/github/callback?code&state: GitHub created the app; keep its credentials. */
  async callback(code: string | undefined, state: string | undefined): Promise<PageResult> {
    const { store, dotcom, config } = this.deps;
    if (!code || !state)
      return errorPage(400, "Missing parameters", "GitHub's redirect must carry both `code` and `state`. Nothing was changed.");
    const check = await store.states.consume(state, "manifest");
    if (!check.ok) return stateProblemPage(check.reason);
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_github")
      return errorPage(409, "Not waiting for GitHub", op ? statusExplanation(op) : "This request no longer exists.");
    const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };

    let app: Awaited<ReturnType<DotcomGateway["convertManifest"]>>;
    try {
      app = await dotcom.convertManifest(code);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return this.failPage(op, actor, "enable.app_created", error.message, error.hint);
    }
    const appLink = this.settingsUrl(app.owner, app.slug);
    if (app.owner.toLowerCase() !== op.org.toLowerCase()) {
      return this.failPage(
        op,
        { ...actor },
        "enable.app_created",
        `The app was created under ${app.owner}, not ${op.org}; nothing was stored.`,
        `Delete it at ${appLink}, then run \`/ghconnect enable ${op.org}\` again, signed in to github.com as an owner of ${op.org}.`,
        { href: appLink, label: `Delete ${app.slug} on GitHub` },
        { app_id: app.id, app_slug: app.slug, app_owner: app.owner },
      );
    }
    const installState = randomBytes(32).toString("base64url");
    const next = await store.transaction(async (tx) => {
      const moved = await tx.operations.transition(op.id, ["awaiting_github"], {
        status: "awaiting_install",
        app: { id: app.id, slug: app.slug, clientId: app.clientId, owner: app.owner },
      });
      if (!moved) return undefined;
      const owner = { operationId: op.id };
      await tx.credentials.put(owner, "private_key", app.pem);
      await tx.credentials.put(owner, "client_secret", app.clientSecret);
      if (app.webhookSecret) await tx.credentials.put(owner, "webhook_secret", app.webhookSecret);
      await tx.states.create(installState, op.id, "install", config.githubTtlMs);
      await tx.audit.append({
        actor,
        action: "enable.app_created",
        target: op.org,
        outcome: "ok",
        details: { operation: op.id, app_id: app.id, app_slug: app.slug, app_owner: app.owner, client_id: app.clientId },
      });
      return moved;
    });
    if (!next)
      return errorPage(409, "Already handled", "This step was already completed (or the request was cancelled). Nothing was changed.");
    await this.updateCard(next, { kind: "installing", appSlug: app.slug, appUrl: app.htmlUrl });
    return {
      kind: "redirect",
      location: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(installState)}`,
    };
  }

  /** GET /ghconnect/github/setup?code&installation_id&setup_action&state: verify, then connect. */
  async setup(params: { code?: string; installationId?: string; setupAction?: string; state?: string }): Promise<PageResult> {
    const { store, dotcom } = this.deps;
    let op: Operation | undefined;
    if (params.state) {
      const check = await store.states.consume(params.state, "install");
      if (!check.ok) return stateProblemPage(check.reason);
      op = await store.operations.get(check.operationId);
    } else {
      // GitHub does not always pass `state` back after installation; the one operation waiting for
      // an installation says which app's credentials exchange the code.
      const inFlight = await store.operations.inFlight();
      op = inFlight?.status === "awaiting_install" ? inFlight : undefined;
    }
    if (op?.status !== "awaiting_install" || !op.app) {
      return errorPage(
        409,
        "Not waiting for an installation",
        op ? statusExplanation(op) : "No enable is waiting for an installation. Nothing was changed.",
      );
    }
    if (!params.code) {
      return errorPage(
        400,
        "Missing authorization",
        "GitHub did not send an authorization code, so the installer cannot be verified. Nothing was changed.",
      );
    }
    if (!params.installationId || !/^\d{1,15}$/.test(params.installationId)) {
      return errorPage(400, "Missing installation", "GitHub's redirect must carry a numeric `installation_id`. Nothing was changed.");
    }
    const installationId = Number(params.installationId);
    const claimed = await store.operations.transition(op.id, ["awaiting_install"], { status: "completing" }, op.version);
    if (!claimed) return errorPage(409, "Already handled", "This installation is already being completed. Nothing was changed.");
    op = claimed;
    const app = op.app as NonNullable<Operation["app"]>;
    const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
    const appLink = this.settingsUrl(app.owner, app.slug);
    const deleteLink = { href: appLink, label: `Delete ${app.slug} on GitHub` };
    const owner = { operationId: op.id };
    try {
      const clientSecret = (await store.credentials.get(owner, "client_secret"))?.secret;
      const privateKey = (await store.credentials.get(owner, "private_key"))?.secret;
      if (!clientSecret || !privateKey)
        throw new UserError("The app's credentials are missing from the database.", "Run `/ghconnect enable` again.");
      const userToken = await dotcom.exchangeOAuthCode(app.clientId, clientSecret, params.code);
      const githubUser = await dotcom.currentUser(userToken);
      actor.github = githubUser.login;
      const membership = await dotcom.membership(userToken, op.org);
      if (membership?.state !== "active" || membership.role !== "admin") {
        return await this.failPage(
          op,
          actor,
          "enable.installed",
          `The github.com user ${githubUser.login} is not an owner of ${op.org}${membership ? ` (their role is ${membership.state} ${membership.role})` : ""}, so the installation was not accepted and nothing was stored.`,
          `An owner of ${op.org} must install the app: run \`/ghconnect enable ${op.org}\` again and sign in to github.com as an owner. Delete the app created for this attempt at ${appLink}.`,
          deleteLink,
        );
      }
      const credentials = { appId: app.id, privateKey };
      const installation = await dotcom.installation(credentials, installationId);
      if (!installation) {
        return await this.failPage(
          op,
          actor,
          "enable.installed",
          `Installation ${installationId} does not exist for the app ${app.slug} (GitHub says so with the app's own key). The link may have been tampered with; nothing was stored.`,
          `Run \`/ghconnect enable ${op.org}\` again. Delete the app created for this attempt at ${appLink}.`,
          deleteLink,
        );
      }
      if (installation.account.toLowerCase() !== op.org.toLowerCase()) {
        return await this.failPage(
          op,
          actor,
          "enable.installed",
          `Installation ${installationId} belongs to ${installation.account}, not ${op.org}; nothing was stored.`,
          `Run \`/ghconnect enable ${op.org}\` again. Delete the app created for this attempt at ${appLink}.`,
          deleteLink,
        );
      }
      const token = await dotcom.installationToken(credentials, installationId, this.deps.tokenCache(owner));
      const facts = op.facts;
      if (!facts) throw new UserError("The preflight facts of this operation are missing.", "Run `/ghconnect enable` again.");
      const connectionId = randomUUID();
      const connectedAt = this.now().toISOString();
      const record = {
        id: connectionId,
        accountKind: "organization" as const,
        org: op.org,
        accountId: installation.accountId,
        appId: app.id,
        appSlug: app.slug,
        appName: op.appName,
        appClientId: app.clientId,
        appSettingsUrl: appLink,
        installationId,
        facts,
        connectedBy: { slack: op.requestedBySlack, ghes: op.requestedByGhes ?? "", github: githubUser.login },
        connectedAt,
        tokenExpiresAt: token.expiresAt,
        lastGithubOkAt: connectedAt,
        operationId: op.id,
      };
      const done = await store.transaction(async (tx) => {
        const finished = await tx.operations.transition(op!.id, ["completing"], {
          status: "succeeded",
          githubLogin: githubUser.login,
          installationId,
        });
        if (!finished) return undefined;
        await tx.connections.insertActive(record);
        await tx.credentials.transfer(op!.id, connectionId);
        await tx.states.dropForOperation(op!.id);
        await tx.audit.append({
          actor,
          action: "enable.connected",
          target: op!.org,
          outcome: "ok",
          details: {
            operation: op!.id,
            connection: connectionId,
            account: op!.org,
            app_id: app.id,
            app_slug: app.slug,
            installation_id: installationId,
            ghes_hostname: facts.ghesHostname,
            ghes_version: facts.ghesVersion,
            license_customer_name: facts.licenseCustomerName,
            license_hash: facts.licenseHash,
            token_expires_at: token.expiresAt,
            connected_by_github: githubUser.login,
          },
        });
        return finished;
      });
      if (!done)
        return errorPage(409, "Already handled", "This operation was cancelled or expired while it completed. Nothing was stored.");
      const summary: Array<[string, string]> = [
        ["Organization", op.org],
        ["GHES", `${facts.ghesHostname} (${facts.ghesVersion})`],
        ["App", `<${appLink}|${app.slug}> (id ${app.id})`],
        ["Installation", String(installationId)],
        ["Connected by", `<@${op.requestedBySlack}> · GHES \`${op.requestedByGhes}\` · github.com \`${githubUser.login}\``],
        ["License", `${facts.licenseCustomerName}, hash \`${facts.licenseHash.slice(0, 12)}…\``],
        ["Token expires", when(token.expiresAt)],
      ];
      await this.updateCard(done, { kind: "connected", summary });
      await this.replyToRequester(
        done,
        simpleMessage(`✅ Connected ${op.org}. The details are on the card in <#${this.deps.notifier.adminChannel}>.`),
      );
      return {
        kind: "page",
        status: 200,
        tone: "ok",
        title: `Connected ${op.org}`,
        message: `${facts.ghesHostname} is now connected to the GitHub organization ${op.org} through the app ${app.slug}. Slack has the details.`,
      };
    } catch (error) {
      if (!(error instanceof UserError)) {
        await this.endOperation(op, "failed", actor, "enable.installed", { reason: (error as Error).message }, "internal error").catch(
          () => {},
        );
        throw error;
      }
      return this.failPage(
        op,
        actor,
        "enable.installed",
        error.message,
        `${error.hint ?? ""} Delete the app created for this attempt at ${appLink}.`.trim(),
        deleteLink,
      );
    }
  }

  /** Ends operations whose time ran out (periodic sweep, and after a restart). */
  async expireStale(): Promise<number> {
    const stale = await this.deps.store.operations.expiredInFlight(this.now());
    let n = 0;
    for (const op of stale.filter((o) => o.kind === "enable")) if (await this.expire(op)) n++;
    return n;
  }

  private async expire(op: Operation): Promise<boolean> {
    const ended = await this.endOperation(
      op,
      "expired",
      { slack: null },
      "enable.expired",
      { expired_at: op.expiresAt, was: op.status },
      undefined,
    );
    if (!ended) return false;
    await this.updateCard(ended, { kind: "expired" });
    await this.replyToRequester(
      ended,
      simpleMessage(
        `⌛ Your enable of ${op.org} expired before it finished. Nothing is connected. Run \`/ghconnect enable ${op.org}\` to start again.`,
      ),
    );
    return true;
  }

  /** Ends an in-flight operation: status, credentials deleted, states dropped, audited — at once. */
  private async endOperation(
    op: Operation,
    status: Extract<OperationStatus, "failed" | "expired" | "cancelled">,
    actor: Actor,
    action: string,
    details: Record<string, unknown>,
    error: string | undefined,
  ): Promise<Operation | undefined> {
    return this.deps.store.transaction(async (tx) => {
      const ended = await tx.operations.transition(op.id, IN_FLIGHT, { status, error: error ?? null });
      if (!ended) return undefined;
      const deleted = await tx.credentials.deleteAll({ operationId: op.id });
      await tx.states.dropForOperation(op.id);
      const entry: AuditInput = {
        actor,
        action,
        target: op.org,
        outcome: status === "failed" ? "failed" : status === "cancelled" ? "ok" : "failed",
        details: { operation: op.id, ...details, ...(error ? { reason: error } : {}), credentials_deleted: deleted },
      };
      await tx.audit.append(entry);
      return ended;
    });
  }

  private async failPage(
    op: Operation,
    actor: Actor,
    action: string,
    reason: string,
    hint: string | undefined,
    link?: { href: string; label: string },
    details: Record<string, unknown> = {},
  ): Promise<PageResult> {
    const ended = await this.endOperation(op, "failed", actor, action, details, reason);
    if (ended) {
      await this.updateCard(ended, { kind: "failed", reason, hint });
      await this.replyToRequester(ended, simpleMessage(`❌ Enabling ${op.org} failed: ${reason}`, hint));
    }
    return {
      kind: "page",
      status: 422,
      tone: "error",
      title: "GitHub Connect was not enabled",
      message: `${reason} ${hint ?? ""}`.trim(),
      link,
    };
  }
}

function describeWait(status: OperationStatus): string {
  switch (status) {
    case "preflight":
      return "running its preflight checks";
    case "awaiting_addendum":
      return "waiting for the addendum to be accepted";
    case "awaiting_github":
    case "awaiting_install":
      return "waiting for GitHub";
    default:
      return "finishing";
  }
}

/** Why an operation cannot take the action the user tried, in words. */
export function statusExplanation(op: Operation): string {
  switch (op.status) {
    case "awaiting_github":
    case "awaiting_install":
      return `The addendum was already accepted (${op.addendumAcceptedAt ? when(op.addendumAcceptedAt) : "earlier"}); this enable of ${op.org} is waiting for GitHub.`;
    case "completing":
      return `This enable of ${op.org} is completing right now.`;
    case "succeeded":
      return `This enable of ${op.org} already succeeded.`;
    case "failed":
      return `This enable of ${op.org} failed${op.error ? `: ${op.error}` : ""}. Run \`/ghconnect enable ${op.org}\` to try again.`;
    case "expired":
      return `This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${op.org}\` again.`;
    case "cancelled":
      return `This request was cancelled. Run \`/ghconnect enable ${op.org}\` to start again.`;
    default:
      return `This enable of ${op.org} is ${describeWait(op.status)}.`;
  }
}

function stateProblemPage(reason: "unknown" | "used" | "expired" | "wrong_purpose"): PageResult {
  switch (reason) {
    case "used":
      return errorPage(
        400,
        "Link already used",
        "This link was already used; each works once. Nothing was changed. If the enable did not finish, run `/ghconnect enable ORG` again.",
      );
    case "expired":
      return errorPage(
        400,
        "Link expired",
        "This link expired (links last 60 minutes). Nothing was changed. Run `/ghconnect enable ORG` again.",
      );
    case "wrong_purpose":
      return errorPage(400, "Wrong link", "This link belongs to another step of the flow. Nothing was changed.");
    default:
      return errorPage(
        400,
        "Unknown link",
        "ghconnect did not issue this link, or it belongs to an operation that has ended. Nothing was changed.",
      );
  }
}

function preflightReply(org: string, results: CheckResult[], passed: boolean): Message {
  const failed = results.filter((r) => r.status === "fail");
  if (!passed) {
    return simpleMessage(
      `❌ Preflight for ${org} failed; nothing was changed.\n${failed.map((r) => `• *${r.name}*: ${r.detail}${r.advice ? ` → ${r.advice}` : ""}`).join("\n")}`,
      "The card in the admin channel has every check. Fix what failed, then run `/ghconnect enable` again.",
    );
  }
  return simpleMessage(
    `✅ Preflight for ${org} passed. Read the GitHub Connect Addendum on the card in the admin channel and accept it to continue.`,
  );
}
