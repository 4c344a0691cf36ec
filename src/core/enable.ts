// Enable (SPEC §3): from `/ghconnect enable ORG` to a connection record. Every step is a
// conditional state transition on the operation, audited in the same transaction, so a double
// click, a replayed callback or a second replica can never do a step twice, and a failure
// anywhere leaves no half-stored connection.
import { randomBytes, randomUUID } from "node:crypto";
import type { Repos } from "../db/store.js";
import type { Actor, AuditInput } from "./audit.js";
import { authorizeAdmin } from "./authorize.js";
import type { Clock } from "./clock.js";
import { ADDENDUM_VERSION, accountName, type CardStage, enableArgument, enableCard, when } from "./enable-card.js";
import { installedOrganizations } from "./enterprise-installations.js";
import {
  enterpriseAppSettingsUrl,
  newEnterpriseAppUrl,
  type RegistrationField,
  readCredentialsForm,
  registrationFields,
  registrationProblem,
} from "./enterprise-registration.js";
import { AlreadyConnected, GitHubFlowRefused, NotAuthorized, OperationInFlight, UserError } from "./errors.js";
import { githubSiteName } from "./github-hosts.js";
import { LINK_CALLBACK_PATH } from "./identity.js";
import type { Message } from "./message.js";
import { simpleMessage } from "./message.js";
import { type AccountKind, IN_FLIGHT, type Operation, type OperationStatus } from "./model.js";
import type { CreatedApp, DotcomGateway, GhesGateway, ManageGateway, Notifier, TokenCache } from "./ports.js";
import { type CheckResult, runPreflight } from "./preflight.js";
import { type InfoLog, RefusalLog, refusedClick } from "./refusals.js";

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
  /** Hosts that go direct although HTTPS_PROXY is set. */
  noProxy?: string;
  addendumTtlMs: number;
  githubTtlMs: number;
  /** How long a completion may hold its operation before the sweep ends it (default 2 minutes). */
  completingLeaseMs?: number;
}

export interface EnableDeps {
  store: FlowStore;
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  clock: Clock;
  config: EnableConfig;
  /** Where refusals of the GitHub pages that are only counted (not audited one by one) are logged. */
  log?: InfoLog;
}

export type PageResult =
  | { kind: "manifest"; action: string; manifest: Record<string, unknown>; org: string }
  | {
      /** The guide to registering an enterprise-owned app by hand, and the form that takes its credentials. */
      kind: "register";
      enterprise: string;
      newAppUrl: string;
      fields: RegistrationField[];
      formAction: string;
      state: string;
      expiresAt: string;
    }
  | { kind: "redirect"; location: string /** Set-Cookie values, for the link pages' browser binding. */; cookies?: string[] }
  | {
      kind: "page";
      status: number;
      tone: "ok" | "neutral" | "error";
      title: string;
      message: string;
      link?: { href: string; label: string };
      /** Slack got the news (the card was updated or the requester answered): the page may say so. */
      notified?: boolean;
    };

export const CALLBACK_PATH = "/ghconnect/github/callback";
export const SETUP_PATH = "/ghconnect/github/setup";
export const MANIFEST_PATH = "/ghconnect/manifest";
export const REGISTER_PATH = "/ghconnect/enterprise/register";
export const CREDENTIALS_PATH = "/ghconnect/enterprise/credentials";

/** GitHub App permissions: the least the enabled features need. */
export const APP_PERMISSIONS = { metadata: "read", members: "read", issues: "read", pull_requests: "read" } as const;

/** `GHES Connect <host> <suffix>`: at most 34 characters, unique per attempt. */
export function appNameFor(ghesUrl: string, suffix: string): string {
  const prefix = "GHES Connect ";
  const room = 34 - prefix.length - 1 - suffix.length;
  const host = new URL(ghesUrl).hostname;
  return `${prefix}${host.length > room ? host.slice(0, room).replace(/[.-]+$/, "") : host} ${suffix}`;
}

/**
 * Long enough for the GitHub calls of a completion (code exchange, owner check, installation,
 * token) with their retries; short enough that a replica dying there blocks enabling for minutes,
 * not the operation's hour.
 */
export const COMPLETING_LEASE_MS = 2 * 60_000;

export interface SetupParams {
  code?: string;
  installationId?: string;
  setupAction?: string;
  state?: string;
}

type InstalledApp = NonNullable<Operation["app"]>;
type ConnectionRecord = Parameters<Repos["connections"]["insertActive"]>[0] & { tokenExpiresAt: string; installationId: number };

/** A setup request carrying the flow's own state, for an operation waiting for its installation. */
interface SetupReturn {
  op: Operation & { app: InstalledApp };
  state: string;
  code: string;
  installationId: number;
}

/** The token cache, in memory: the completing transaction stores what was minted, or nothing. */
class CapturedToken implements TokenCache {
  value: string | undefined;
  async get(): Promise<undefined> {
    return undefined;
  }
  async set(minted: { token: string }): Promise<void> {
    this.value = minted.token;
  }
}

const errorPage = (status: number, title: string, message: string, link?: { href: string; label: string }): PageResult => ({
  kind: "page",
  status,
  tone: "error",
  title,
  message,
  link,
});

const MISSING_STATE_PAGE = errorPage(
  400,
  "Not a return from GitHub",
  "This page needs the link GitHub returns after installing the app, which carries the `state` ghconnect gave GitHub for this enable. This request had none, so it was refused. Nothing was changed. If you are enabling GitHub Connect, go back to the link ghconnect sent you in Slack.",
);

/** GitHub sends `setup_action=update` when an owner later edits the installation. */
const NOTHING_TO_DO_PAGE: PageResult = {
  kind: "page",
  status: 200,
  tone: "neutral",
  title: "Nothing to do",
  message:
    "GitHub sent you here because the app's installation was changed. ghconnect needs nothing for that, and nothing was changed. `/ghconnect status` in Slack shows the connection.",
};

/** The pages anyone can request; each refusal is audited as `enable.<page>_refused`, coalesced. */
export type GitHubPage = "manifest" | "callback" | "setup" | "register" | "credentials";

/** Why a page refused a request (the audit entry's `refusal`). */
type Refusal =
  | "no_valid_state"
  | "not_waiting"
  | "incomplete"
  | "code_refused"
  | "code_unverified"
  | "malformed"
  | "malformed_credentials"
  | "key_refused"
  | "wrong_app";

export class EnableFlow {
  private readonly refusals: RefusalLog;

  constructor(private readonly deps: EnableDeps) {
    this.refusals = new RefusalLog({ store: deps.store, log: deps.log });
  }

  private now(): Date {
    return this.deps.clock();
  }

  /** The app's settings page, where an owner deletes the registration (GitHub has no API for that). */
  private settingsUrl(owner: string, slug: string, kind: AccountKind = "organization"): string {
    if (kind === "enterprise") return enterpriseAppSettingsUrl(this.deps.config.githubUrl, owner, slug);
    return `${this.deps.config.githubUrl}/organizations/${owner}/settings/apps/${slug}`;
  }

  /** True when Slack took the update (a page may then say "Slack has the details"). */
  private async updateCard(op: Operation, stage: CardStage): Promise<boolean> {
    if (!op.card) return false;
    return this.deps.notifier.update(op.card, enableCard(op, stage, githubSiteName(this.deps.config.githubUrl))).catch(() => false);
  }

  private async replyToRequester(op: Operation, message: Message): Promise<boolean> {
    if (!op.responseUrl) return false;
    return this.deps.notifier.reply(op.responseUrl, message).catch(() => false);
  }

  /** `/ghconnect enable ORG`: authorize, refuse if busy, preflight, then the addendum card. */
  async request(org: string, slackUserId: string, responseUrl?: string): Promise<Message> {
    return this.start({ account: org, accountKind: "organization", slackUserId, responseUrl });
  }

  /** `/ghconnect enable enterprise:SLUG`: the same steps; after the addendum, a registration by hand. */
  async requestEnterprise(slug: string, slackUserId: string, responseUrl?: string): Promise<Message> {
    return this.start({ account: slug, accountKind: "enterprise", slackUserId, responseUrl });
  }

  private async start(input: { account: string; accountKind: AccountKind; slackUserId: string; responseUrl?: string }): Promise<Message> {
    const { store, ghes, clock, config } = this.deps;
    const { account: org, accountKind, slackUserId, responseUrl } = input;
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
        accountKind,
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
    let op = (await store.operations.get(id)) as Operation;
    const card = await this.deps.notifier.post(
      this.deps.notifier.adminChannel,
      enableCard(op, { kind: "preflight", checks: [] }, githubSiteName(this.deps.config.githubUrl)),
    );
    if (card) {
      await store.operations.setCard(id, card);
      op = { ...op, card };
    }

    const outcome = await runPreflight(
      {
        ghes,
        manage: this.deps.manage,
        dotcom: this.deps.dotcom,
        uploadsUrl: config.uploadsUrl,
        proxy: config.proxy,
        noProxy: config.noProxy,
        now: clock,
      },
      async (checks) => {
        await this.updateCard(op, { kind: "preflight", checks });
      },
    );
    const summary = outcome.results.map((r) => ({ check: r.name, status: r.status, detail: r.detail }));
    if (!outcome.passed || !outcome.facts) {
      const failed = await this.endOperation({
        op,
        status: "failed",
        actor,
        action: "enable.preflight",
        details: { checks: summary },
        error: "preflight failed",
      });
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
      await this.refusals.record(
        refusedClick({
          actor: { slack: slackUserId },
          action: "enable.addendum_accepted",
          target: op.org,
          details: { operation: op.id, reason },
        }),
      );
      return simpleMessage(`:no_entry: ${reason} Nothing was changed.`);
    }
    let admin: { ghesLogin: string };
    try {
      admin = await authorizeAdmin(store.admins, ghes, slackUserId, `accept the addendum for ${op.org}`);
    } catch (error) {
      if (error instanceof NotAuthorized) {
        await this.refusals.record(
          refusedClick({
            actor: { slack: slackUserId, ...error.actor },
            action: "enable.addendum_accepted",
            target: op.org,
            details: { operation: op.id, reason: error.message },
          }),
        );
        return error.toMessage();
      }
      throw error;
    }
    if (Date.parse(op.expiresAt) <= this.now().getTime()) {
      await this.expire(op);
      return simpleMessage(`This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${enableArgument(op)}\` again.`);
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
      await tx.states.create(state, op.id, op.accountKind === "enterprise" ? "register" : "manifest", config.githubTtlMs);
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
    if (op.accountKind === "enterprise") return registrationReply(next, `${config.publicUrl}${REGISTER_PATH}?state=${state}`);
    const link = `${config.publicUrl}${MANIFEST_PATH}?state=${state}`;
    return {
      text: `Continue on GitHub to create the app for ${op.org}: ${link}`,
      blocks: [
        {
          kind: "text",
          text: `Addendum accepted. Continue on ${githubSiteName(config.githubUrl)}, signed in as an owner of *${op.org}*: GitHub will show the app to create, then ask you to install it.`,
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
    if (!IN_FLIGHT.includes(op.status)) return simpleMessage(statusExplanation(op));
    // A completion holding its lease is left to finish; once the lease ran out, Cancel ends it.
    const leaseLapsed = op.status === "completing" && Date.parse(op.expiresAt) <= this.now().getTime();
    if (op.status === "completing" && !leaseLapsed) return simpleMessage(statusExplanation(op));
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
    const ended = await this.endOperation({
      op,
      status: "cancelled",
      actor,
      action: "enable.cancelled",
      details: leaseLapsed ? { was: "completing", lease_ended_at: op.expiresAt } : {},
      version: leaseLapsed ? op.version : undefined,
    });
    if (!ended) return simpleMessage(statusExplanation((await store.operations.get(op.id)) as Operation));
    await this.updateCard(ended, { kind: "cancelled", by: slackUserId });
    return simpleMessage(`Cancelled the enable of ${op.org}. Nothing is connected and no credentials were kept.`);
  }

  /** GET /ghconnect/manifest?state=…: the auto-submitting form that creates the app on GitHub. */
  async manifestPage(state: string | undefined): Promise<PageResult> {
    const { store } = this.deps;
    if (!state)
      return this.refuse({
        at: "manifest",
        refusal: "no_valid_state",
        reason: "no state",
        page: errorPage(400, "Missing state", "This page needs the link ghconnect sent you in Slack. Nothing was changed."),
      });
    const check = await store.states.peek(state, "manifest");
    if (!check.ok)
      return this.refuse({
        at: "manifest",
        refusal: "no_valid_state",
        reason: `${check.reason} state`,
        operationId: check.operationId,
        page: stateProblemPage(check.reason),
      });
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_github") return this.refuseNotWaiting("manifest", check.operationId, op, "Not waiting for GitHub");
    const { config } = this.deps;
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
        // The first is where GitHub sends the installer; the second, where people link their account.
        callback_urls: [`${config.publicUrl}${SETUP_PATH}`, `${config.publicUrl}${LINK_CALLBACK_PATH.github}`],
        request_oauth_on_install: true,
        hook_attributes: { url: `${config.publicUrl}/ghconnect/github/webhook`, active: false },
        default_permissions: APP_PERMISSIONS,
        default_events: [],
      },
    };
  }

  /**
   * GET /ghconnect/github/callback?code&state: GitHub created the app; keep its credentials. The
   * state is only looked at until the code is converted: a code GitHub refuses (expired, used,
   * made up) changes nothing and the "Continue on GitHub" link still works; the state is used in
   * the transaction that stores the app's credentials, which a second delivery cannot repeat.
   */
  async callback(code: string | undefined, state: string | undefined): Promise<PageResult> {
    const { store } = this.deps;
    if (!code || !state)
      return this.refuse({
        at: "callback",
        refusal: state ? "incomplete" : "no_valid_state",
        reason: state ? "no code" : "no state",
        page: errorPage(400, "Missing parameters", "GitHub's redirect must carry both `code` and `state`. Nothing was changed."),
      });
    const check = await store.states.peek(state, "manifest");
    if (!check.ok)
      return this.refuse({
        at: "callback",
        refusal: "no_valid_state",
        reason: `${check.reason} state`,
        operationId: check.operationId,
        page: stateProblemPage(check.reason),
      });
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_github") return this.refuseNotWaiting("callback", check.operationId, op, "Not waiting for GitHub");
    let app: CreatedApp;
    try {
      app = await this.deps.dotcom.convertManifest(code);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return this.refuseManifestCode(op, state, error);
    }
    return this.keepApp(op, state, app);
  }

  /** GitHub refused the code, or could not be asked: nothing changes and the way back is said. */
  private async refuseManifestCode(op: Operation, state: string, error: UserError): Promise<PageResult> {
    const { store, config } = this.deps;
    // Another delivery of the same code may have just kept the app (codes work once).
    const now = await store.operations.get(op.id);
    if (now?.status !== "awaiting_github") return this.refuseNotWaiting("callback", op.id, now, "Already handled");
    const refused = error instanceof GitHubFlowRefused;
    const why = error.message.replace(/ Nothing was stored\.$/, "");
    const until = when(now.expiresAt);
    return this.refuse({
      at: "callback",
      refusal: refused ? "code_refused" : "code_unverified",
      reason: why,
      op: now,
      page: errorPage(
        refused ? 400 : 502,
        refused ? "GitHub refused the app's creation code" : "GitHub could not convert the app's creation code",
        `${why} Nothing was changed: the enable of ${op.org} still waits for GitHub, until ${until}. ${
          refused
            ? `Go back to the "Continue on GitHub" link ghconnect sent you in Slack (it works until then) and create the app again, signed in to github.com as an owner of ${op.org}. If GitHub says the name is already taken, first delete the app it created at ${config.githubUrl}/organizations/${op.org}/settings/apps.`
            : "Reload this page in a minute: the code works for an hour."
        }`,
        refused
          ? { href: `${config.publicUrl}${MANIFEST_PATH}?state=${encodeURIComponent(state)}`, label: "Continue on GitHub" }
          : undefined,
      ),
    });
  }

  /** The converted app: its owner checked, its credentials stored and the state used, in one transaction. */
  private async keepApp(op: Operation, state: string, app: CreatedApp): Promise<PageResult> {
    const { store, config } = this.deps;
    const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
    const appLink = this.settingsUrl(app.owner, app.slug);
    if (app.owner.toLowerCase() !== op.org.toLowerCase()) {
      return this.failPage({
        op,
        actor,
        action: "enable.app_created",
        reason: `The app was created under ${app.owner}, not ${op.org}; nothing was stored.`,
        hint: `Delete it at ${appLink}, then run \`/ghconnect enable ${enableArgument(op)}\` again, signed in to github.com as an owner of ${op.org}.`,
        link: { href: appLink, label: `Delete ${app.slug} on GitHub` },
        details: { app_id: app.id, app_slug: app.slug, app_owner: app.owner },
      });
    }
    const installState = randomBytes(32).toString("base64url");
    const next = await store.transaction(async (tx) => {
      const moved = await tx.operations.transition(op.id, ["awaiting_github"], {
        status: "awaiting_install",
        app: { id: app.id, slug: app.slug, clientId: app.clientId, owner: app.owner },
      });
      if (!moved) return undefined;
      const used = await tx.states.consume(state, "manifest");
      // Ending the operation drops its states in the same transaction, so a waiting operation's state is unused.
      if (!used.ok) throw new Error(`the manifest state of operation ${op.id} was ${used.reason} while it waited for GitHub`);
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
    if (!next) return this.refuseNotWaiting("callback", op.id, await store.operations.get(op.id), "Already handled");
    await this.updateCard(next, { kind: "installing", appSlug: app.slug, appUrl: app.htmlUrl });
    return {
      kind: "redirect",
      location: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(installState)}`,
    };
  }

  /**
   * GET /ghconnect/enterprise/register?state=…: the guide to registering the enterprise's app by
   * hand (GitHub takes no manifest for an enterprise-owned app), every field pre-computed, and the
   * form that takes the app's credentials. The state is only looked at here: the page may be
   * reloaded, and the form works until the credentials are accepted or the state expires.
   */
  async registerPage(state: string | undefined): Promise<PageResult> {
    const found = await this.registeringOperation("register", state);
    if (!("op" in found)) return found;
    const { config } = this.deps;
    const { op } = found;
    return {
      kind: "register",
      enterprise: op.org,
      newAppUrl: newEnterpriseAppUrl(config.githubUrl, op.org),
      fields: registrationFields({
        op,
        ghesUrl: config.ghesUrl,
        setupUrl: `${config.publicUrl}${SETUP_PATH}`,
        linkUrl: `${config.publicUrl}${LINK_CALLBACK_PATH.github}`,
      }),
      formAction: `${config.publicUrl}${CREDENTIALS_PATH}`,
      state: state as string,
      expiresAt: when(op.expiresAt),
    };
  }

  /** The register state, unused and unexpired, of an enterprise enable waiting for its app; else the refusal page. */
  private async registeringOperation(at: "register" | "credentials", state: string | undefined): Promise<{ op: Operation } | PageResult> {
    const { store } = this.deps;
    if (!state)
      return this.refuse({
        at,
        refusal: "no_valid_state",
        reason: "no state",
        page: errorPage(400, "Missing state", "This page needs the link ghconnect sent you in Slack. Nothing was changed."),
      });
    const check = await store.states.peek(state, "register");
    if (!check.ok)
      return this.refuse({
        at,
        refusal: "no_valid_state",
        reason: `${check.reason} state`,
        operationId: check.operationId,
        page: stateProblemPage(check.reason),
      });
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_github" || op.accountKind !== "enterprise")
      return this.refuseNotWaiting(at, check.operationId, op, "Not waiting for the app's credentials");
    return { op };
  }

  /**
   * POST /ghconnect/enterprise/credentials: the app's id, client id and secret and private key.
   * They are verified with GitHub before anything is kept: the app's JWT must open `GET /app`
   * (the key belongs to that app id), whose owner must be this enterprise, with the client id
   * and permissions the connection needs. A bad submission is refused (coalesced in the audit
   * trail), stores nothing, and the form stays usable until its state expires; the answer names
   * the problem, never a submitted value.
   */
  async submitCredentials(fields: Record<string, string | undefined>): Promise<PageResult> {
    const { store, config } = this.deps;
    const found = await this.registeringOperation("credentials", fields.state);
    if (!("op" in found)) return found;
    const { op } = found;
    const state = fields.state as string;
    const retry = { href: `${config.publicUrl}${REGISTER_PATH}?state=${encodeURIComponent(state)}`, label: "Back to the form" };
    const refused = (refusal: Refusal, problem: string) =>
      this.refuse({
        at: "credentials",
        refusal,
        reason: problem,
        op,
        page: errorPage(
          422,
          "Credentials not accepted",
          `${problem} Nothing was stored. The form works until ${when(op.expiresAt)}: correct it and send it again.`,
          retry,
        ),
      });
    const read = readCredentialsForm(fields);
    if (!read.ok) return refused("malformed_credentials", read.problem);
    const { form } = read;
    const app = await this.deps.dotcom.registeredApp({ appId: form.appId, privateKey: form.privateKey });
    if (!app)
      return refused(
        "key_refused",
        `GitHub refused a token signed with this private key for app id ${form.appId}: the key is not one of that app's keys, or there is no such app.`,
      );
    const problem = registrationProblem(app, { slug: op.org, clientId: form.clientId });
    if (problem) return refused("wrong_app", problem);
    const installState = randomBytes(32).toString("base64url");
    const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
    const next = await store.transaction(async (tx) => {
      const moved = await tx.operations.transition(
        op.id,
        ["awaiting_github"],
        { status: "awaiting_install", app: { id: app.id, slug: app.slug, clientId: app.clientId, owner: op.org } },
        op.version,
      );
      if (!moved) return undefined;
      const used = await tx.states.consume(state, "register");
      if (!used.ok) throw new Error(`the register state of operation ${op.id} was ${used.reason} while it waited for the app`);
      const owner = { operationId: op.id };
      await tx.credentials.put(owner, "private_key", form.privateKey);
      await tx.credentials.put(owner, "client_secret", form.clientSecret);
      await tx.states.create(installState, op.id, "install", config.githubTtlMs);
      await tx.audit.append({
        actor,
        action: "enable.app_registered",
        target: op.org,
        outcome: "ok",
        details: {
          operation: op.id,
          account_kind: "enterprise",
          app_id: app.id,
          app_slug: app.slug,
          app_owner: app.owner.login,
          client_id: app.clientId,
          permissions: app.permissions,
        },
      });
      return moved;
    });
    if (!next) return this.refuseNotWaiting("credentials", op.id, await store.operations.get(op.id), "Already handled");
    await this.updateCard(next, { kind: "installing", appSlug: app.slug, appUrl: `${config.githubUrl}/apps/${app.slug}` });
    return {
      kind: "redirect",
      location: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(installState)}`,
    };
  }

  /**
   * GET /ghconnect/github/setup?code&installation_id&setup_action&state: the installer's return.
   * Nothing acts without the flow's own `state`: anyone can send this URL, so a request without a
   * valid, unused install state of the waiting operation only records its refusal. With one, the
   * operation is claimed under a short lease, the code exchanged (GitHub refusing it hands the
   * operation back, since it says nothing about the installer), the installer and the installation
   * verified, and the connection written in the transaction that also uses the state.
   */
  async setup(params: SetupParams): Promise<PageResult> {
    if (params.setupAction === "update") return NOTHING_TO_DO_PAGE;
    const ret = await this.validReturn(params);
    if ("kind" in ret) return ret;
    const claimed = await this.claimCompletion(ret.op);
    if (!claimed) {
      return this.refuse({
        at: "setup",
        refusal: "not_waiting",
        reason: "another request is completing this installation",
        op: ret.op,
        page: errorPage(409, "Already handled", "This installation is already being completed. Nothing was changed."),
      });
    }
    return this.complete({ ...ret, op: { ...claimed, app: ret.op.app }, waitingUntil: ret.op.expiresAt });
  }

  /** The flow's own state, its operation waiting for the installation, and a usable code and id. */
  private async validReturn(params: SetupParams): Promise<SetupReturn | PageResult> {
    const { store } = this.deps;
    if (!params.state) return this.refuse({ at: "setup", refusal: "no_valid_state", reason: "no state", page: MISSING_STATE_PAGE });
    const check = await store.states.peek(params.state, "install");
    if (!check.ok) {
      return this.refuse({
        at: "setup",
        refusal: "no_valid_state",
        reason: `${check.reason} state`,
        operationId: check.operationId,
        page: stateProblemPage(check.reason),
      });
    }
    const op = await store.operations.get(check.operationId);
    if (op?.status !== "awaiting_install" || !op.app)
      return this.refuseNotWaiting("setup", check.operationId, op, "Not waiting for an installation");
    if (!params.code) {
      return this.refuse({
        at: "setup",
        refusal: "incomplete",
        reason: "no authorization code",
        op,
        page: errorPage(
          400,
          "Missing authorization",
          "GitHub did not send an authorization code, so the installer cannot be verified. Nothing was changed.",
        ),
      });
    }
    if (!params.installationId || !/^\d{1,15}$/.test(params.installationId)) {
      return this.refuse({
        at: "setup",
        refusal: "incomplete",
        reason: "no numeric installation_id",
        op,
        page: errorPage(400, "Missing installation", "GitHub's redirect must carry a numeric `installation_id`. Nothing was changed."),
      });
    }
    return {
      op: { ...op, app: op.app },
      state: params.state,
      code: params.code,
      installationId: Number(params.installationId),
    };
  }

  /**
   * Records a refused request to a GitHub page (never its code or state) and answers with `page`.
   * Anyone can send these requests, so entries are coalesced: see RefusalLog.
   */
  /**
   * A request whose parameters the web adapter could not accept (repeated, oversized, outside the
   * URL-token alphabet): refused like a forged state, in the same coalesced audit tally. The
   * reason names the parameter only; its value is the requester's and is not recorded.
   */
  refuseMalformed(at: GitHubPage, reason: string, page: PageResult): Promise<PageResult> {
    return this.refuse({ at, refusal: "malformed", reason, page });
  }

  private async refuse(refused: {
    at: GitHubPage;
    refusal: Refusal;
    reason: string;
    page: PageResult;
    op?: Operation;
    operationId?: string;
  }): Promise<PageResult> {
    const operation = refused.op?.id ?? refused.operationId;
    await this.refusals.record({
      actor: { slack: null },
      action: `enable.${refused.at}_refused`,
      target: refused.op?.org ?? null,
      outcome: "refused",
      details: { refusal: refused.refusal, reason: refused.reason, ...(operation ? { operation } : {}) },
    });
    return refused.page;
  }

  /** The state's operation is not at the step this page belongs to. */
  private refuseNotWaiting(at: GitHubPage, operationId: string, op: Operation | undefined, title: string): Promise<PageResult> {
    const explanation = !op
      ? "This request no longer exists."
      : (at === "credentials" || at === "register") && op.status === "awaiting_install"
        ? `This step is done: the app's credentials were accepted and kept; the enable of the enterprise ${op.org} now waits for the app to be installed.`
        : at === "callback" && op.status === "awaiting_install"
          ? `This step is done: the app was created on GitHub and its credentials kept; the enable of ${op.org} now waits for the app to be installed.`
          : statusExplanation(op);
    return this.refuse({
      at,
      refusal: "not_waiting",
      reason: op ? `the operation is ${op.status}` : "the operation no longer exists",
      operationId,
      op,
      page: errorPage(409, title, `${explanation} Nothing was changed.`),
    });
  }

  /** Audits the refusals only counted so far, once their kind has had no entry for a minute (the app's sweep). */
  flushRefusals(): Promise<number> {
    return this.refusals.flush();
  }

  /** awaiting_install → completing, leased: if this replica dies, the sweep ends it at the lease's end. */
  private async claimCompletion(op: Operation): Promise<Operation | undefined> {
    const leaseUntil = new Date(this.now().getTime() + this.completingLeaseMs());
    const claimed = await this.deps.store.operations.transition(
      op.id,
      ["awaiting_install"],
      { status: "completing", expiresAt: leaseUntil },
      op.version,
    );
    if (claimed) await this.updateCard(claimed, { kind: "completing" });
    return claimed;
  }

  private completingLeaseMs(): number {
    return this.deps.config.completingLeaseMs ?? COMPLETING_LEASE_MS;
  }

  /** The claimed operation to its end: exchange, verify, connect. Every write is fenced by the claim. */
  private async complete(ret: SetupReturn & { waitingUntil: string }): Promise<PageResult> {
    const { store, dotcom } = this.deps;
    const op = ret.op;
    const app = op.app as InstalledApp;
    const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
    const appLink = this.settingsUrl(app.owner, app.slug, op.accountKind);
    const deleteLink = { href: appLink, label: `Delete ${app.slug} on GitHub` };
    const fail = (reason: string, hint: string, details: Record<string, unknown> = {}) =>
      this.failPage({ op, actor, action: "enable.installed", reason, hint, link: deleteLink, details });
    try {
      const owner = { operationId: op.id };
      const clientSecret = (await store.credentials.get(owner, "client_secret"))?.secret;
      const privateKey = (await store.credentials.get(owner, "private_key"))?.secret;
      if (!clientSecret || !privateKey)
        throw new UserError("The app's credentials are missing from the database.", "Run `/ghconnect enable` again.");
      let userToken: string;
      try {
        userToken = await dotcom.exchangeOAuthCode(app.clientId, clientSecret, ret.code);
      } catch (error) {
        return await this.handBack(ret, error);
      }
      const githubUser = await dotcom.currentUser(userToken);
      actor.github = githubUser.login;
      // With the flow's own state and a code GitHub accepted, these are proven facts about this
      // installation, not something a stranger can make up: the attempt fails.
      const installer = await this.verifyInstaller({ op, userToken, login: githubUser.login, appLink });
      if ("refusal" in installer) return await fail(installer.refusal.reason, installer.refusal.hint);
      const credentials = { appId: app.id, privateKey };
      const installation = await dotcom.installation(credentials, ret.installationId);
      if (!installation) {
        return await fail(
          `Installation ${ret.installationId} does not exist for the app ${app.slug} (GitHub says so with the app's own key). The link may have been tampered with; nothing was stored.`,
          `Run \`/ghconnect enable ${enableArgument(op)}\` again. Delete the app created for this attempt at ${appLink}.`,
        );
      }
      if (installation.onEnterprise) {
        return await fail(
          `Installation ${ret.installationId} is on the enterprise ${installation.account} itself, where an app gets only enterprise permissions; GitHub Connect needs it on an organization of the enterprise. Nothing was stored.`,
          `Run \`/ghconnect enable ${enableArgument(op)}\` again and install the app on one of the enterprise's organizations (installing it on the enterprise too is optional). Delete the app registered for this attempt at ${appLink}.`,
        );
      }
      const account = installation.account.toLowerCase();
      const allowed = op.accountKind === "enterprise" ? installer.organizations : [op.org.toLowerCase()];
      if (!allowed.includes(account)) {
        return await fail(
          `Installation ${ret.installationId} belongs to ${installation.account}, not ${op.accountKind === "enterprise" ? `an organization of the enterprise ${op.org}` : op.org}; nothing was stored.`,
          `Run \`/ghconnect enable ${enableArgument(op)}\` again. Delete the app created for this attempt at ${appLink}.`,
        );
      }
      // The minted token is held in memory and stored by the completing transaction, so a
      // completion that lost its lease stores nothing at all.
      const minted = new CapturedToken();
      const token = await dotcom.installationToken(credentials, ret.installationId, minted);
      const facts = op.facts;
      if (!facts) throw new UserError("The preflight facts of this operation are missing.", "Run `/ghconnect enable` again.");
      const connectedAt = this.now().toISOString();
      const record: ConnectionRecord = {
        id: randomUUID(),
        accountKind: op.accountKind,
        org: op.org,
        // An enterprise connection's installation is on one of its organizations, not the enterprise.
        accountId: op.accountKind === "enterprise" ? null : installation.accountId,
        installedOn: op.accountKind === "enterprise" ? await installedOrganizations(dotcom, credentials) : null,
        appId: app.id,
        appSlug: app.slug,
        appName: op.appName,
        appClientId: app.clientId,
        appSettingsUrl: appLink,
        installationId: ret.installationId,
        facts,
        connectedBy: { slack: op.requestedBySlack, ghes: op.requestedByGhes ?? "", github: githubUser.login },
        connectedAt,
        tokenExpiresAt: token.expiresAt,
        lastGithubOkAt: connectedAt,
        operationId: op.id,
      };
      const done = await this.writeConnection({ op, state: ret.state, record, actor, cachedToken: minted.value });
      if (!done) {
        const now = await store.operations.get(op.id);
        return errorPage(
          409,
          "Not completed",
          `${now ? statusExplanation(now) : "This request no longer exists."} This completion came too late (the operation was ended meanwhile), so nothing was stored.`,
        );
      }
      return await this.announceConnected(done, record, installation.account);
    } catch (error) {
      if (!(error instanceof UserError)) {
        await this.endOperation({
          op,
          status: "failed",
          actor,
          action: "enable.installed",
          details: { reason: (error as Error).message },
          error: "internal error",
          version: op.version,
        }).catch(() => {});
        throw error;
      }
      return fail(error.message, `${error.hint ?? ""} Delete the app created for this attempt at ${appLink}.`.trim());
    }
  }

  /**
   * The installer, proven by their own user token: an active admin of the organization
   * (`GET /user/memberships/orgs/{org}`), or an owner of the enterprise (GraphQL
   * `enterprise(slug:) { viewerIsAdmin }`). For an enterprise, also the organizations its app may
   * be installed on ("can only be installed on organizations within the enterprise").
   */
  private async verifyInstaller(input: {
    op: Operation;
    userToken: string;
    login: string;
    appLink: string;
  }): Promise<{ organizations: string[] } | { refusal: { reason: string; hint: string } }> {
    const { op, userToken, login, appLink } = input;
    const { dotcom } = this.deps;
    if (op.accountKind === "enterprise") {
      const view = await dotcom.enterprise(userToken, op.org);
      if (!view.exists)
        return {
          refusal: {
            reason: `${op.org} is not an enterprise account that the github.com user ${login} can see, so the installation was not accepted and nothing was stored.`,
            hint: `Check the slug (it is the last part of github.com/enterprises/SLUG), then run \`/ghconnect enable enterprise:SLUG\` again, signed in as an owner of the enterprise. Delete the app registered for this attempt at ${appLink}.`,
          },
        };
      if (!view.viewerIsAdmin)
        return {
          refusal: {
            reason: `The github.com user ${login} is not an owner of the enterprise ${op.org} (owning one of its organizations is not enough), so the installation was not accepted and nothing was stored.`,
            hint: `An owner of the enterprise ${op.org} must install the app: run \`/ghconnect enable enterprise:${op.org}\` again. Delete the app registered for this attempt at ${appLink}.`,
          },
        };
      return { organizations: view.organizations.map((o) => o.toLowerCase()) };
    }
    const membership = await dotcom.membership(userToken, op.org);
    if (membership?.state !== "active" || membership.role !== "admin")
      return {
        refusal: {
          reason: `The github.com user ${login} is not an owner of ${op.org}${membership ? ` (their role is ${membership.state} ${membership.role})` : ""}, so the installation was not accepted and nothing was stored.`,
          hint: `An owner of ${op.org} must install the app: run \`/ghconnect enable ${enableArgument(op)}\` again and sign in to github.com as an owner. Delete the app created for this attempt at ${appLink}.`,
        },
      };
    return { organizations: [op.org.toLowerCase()] };
  }

  /** GitHub refused the code: the operation waits for its installation again, the state still usable. */
  private async handBack(ret: SetupReturn & { waitingUntil: string }, error: unknown): Promise<PageResult> {
    const { store, config } = this.deps;
    const op = ret.op;
    const app = op.app as InstalledApp;
    const why = error instanceof UserError ? error.message : "GitHub's answer to the code exchange could not be read.";
    // GitHub said no to the code (wrong, expired, used) vs. GitHub could not be asked: either way the
    // installer is unproven, so the operation waits again.
    const refusal = error instanceof GitHubFlowRefused ? "authorization_refused" : "authorization_unverified";
    const back = await store.transaction(async (tx) => {
      const moved = await tx.operations.transition(
        op.id,
        ["completing"],
        { status: "awaiting_install", expiresAt: new Date(ret.waitingUntil) },
        op.version,
      );
      if (moved)
        await tx.audit.append({
          actor: { slack: null },
          action: "enable.setup_refused",
          target: op.org,
          outcome: "refused",
          details: { refusal, reason: why, operation: op.id },
        });
      return moved;
    });
    if (!(error instanceof UserError)) throw error;
    if (!back) {
      const now = await store.operations.get(op.id);
      return errorPage(409, "Not completed", `${now ? statusExplanation(now) : "This request no longer exists."} Nothing was stored.`);
    }
    await this.updateCard(back, { kind: "installing", appSlug: app.slug, appUrl: `${config.githubUrl}/apps/${app.slug}` });
    return errorPage(
      refusal === "authorization_refused" ? 400 : 502,
      refusal === "authorization_refused" ? "GitHub refused the authorization" : "GitHub could not check the authorization",
      `${why.replace(/ Nothing was stored\.$/, "")} Nothing was changed: the enable of ${op.org} still waits for its installation, until ${when(ret.waitingUntil)}. Open the installation page again, signed in to github.com as an owner of ${op.org}; GitHub sends you back here with a fresh code.`,
      {
        href: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(ret.state)}`,
        label: "Install again on GitHub",
      },
    );
  }

  /** The connection, the operation's success, its credentials and its state's use: one transaction. */
  private async writeConnection(input: {
    op: Operation;
    state: string;
    record: ConnectionRecord;
    actor: Actor;
    cachedToken: string | undefined;
  }): Promise<Operation | undefined> {
    const { op, record } = input;
    const facts = record.facts;
    return this.deps.store.transaction(async (tx) => {
      const finished = await tx.operations.transition(
        op.id,
        ["completing"],
        { status: "succeeded", githubLogin: record.connectedBy.github, installationId: record.installationId },
        op.version,
      );
      if (!finished) return undefined;
      const used = await tx.states.consume(input.state, "install");
      // Only the holder of the claim reaches this line, and only it uses the state.
      if (!used.ok) throw new Error(`the install state of operation ${op.id} was ${used.reason} under a held claim`);
      await tx.connections.insertActive(record);
      if (input.cachedToken)
        await tx.credentials.put({ operationId: op.id }, "installation_token", input.cachedToken, new Date(record.tokenExpiresAt));
      await tx.credentials.transfer(op.id, record.id);
      await tx.states.dropForOperation(op.id);
      await tx.audit.append({
        actor: input.actor,
        action: "enable.connected",
        target: op.org,
        outcome: "ok",
        details: {
          operation: op.id,
          connection: record.id,
          account: op.org,
          app_id: record.appId,
          app_slug: record.appSlug,
          installation_id: record.installationId,
          ghes_hostname: facts.ghesHostname,
          ghes_version: facts.ghesVersion,
          license_customer_name: facts.licenseCustomerName,
          license_hash: facts.licenseHash,
          token_expires_at: record.tokenExpiresAt,
          connected_by_github: record.connectedBy.github,
        },
      });
      return finished;
    });
  }

  private async announceConnected(done: Operation, record: ConnectionRecord, installedOn = ""): Promise<PageResult> {
    const facts = record.facts;
    const summary: Array<[string, string]> = [
      [done.accountKind === "enterprise" ? "Enterprise" : "Organization", done.org],
      ...(done.accountKind === "enterprise"
        ? ([["Installed on", (record.installedOn ?? [installedOn]).join(", ")]] as Array<[string, string]>)
        : []),
      ["GHES", `${facts.ghesHostname} (${facts.ghesVersion})`],
      ["App", `<${record.appSettingsUrl}|${record.appSlug}> (id ${record.appId})`],
      ["Installation", String(record.installationId)],
      [
        "Connected by",
        `<@${done.requestedBySlack}> · GHES \`${done.requestedByGhes}\` · ${githubSiteName(this.deps.config.githubUrl)} \`${record.connectedBy.github}\``,
      ],
      ["License", `${facts.licenseCustomerName}, hash \`${facts.licenseHash.slice(0, 12)}…\``],
      ["Token expires", when(record.tokenExpiresAt)],
    ];
    const carded = await this.updateCard(done, { kind: "connected", summary });
    const replied = await this.replyToRequester(
      done,
      simpleMessage(`✅ Connected ${accountName(done)}. The details are on the card in <#${this.deps.notifier.adminChannel}>.`),
    );
    const notified = carded || replied;
    return {
      kind: "page",
      status: 200,
      tone: "ok",
      title: `Connected ${done.org}`,
      message: `${facts.ghesHostname} is now connected to ${done.accountKind === "enterprise" ? `the GitHub enterprise account ${done.org}` : `the GitHub organization ${done.org}`} through the app ${record.appSlug}.${
        notified ? "" : " Slack could not be told just now; `/ghconnect status` in Slack shows the connection."
      }`,
      notified,
    };
  }

  /** Ends operations whose time ran out, and completions whose lease ran out (the app's periodic sweep). */
  async expireStale(): Promise<number> {
    const stale = await this.deps.store.operations.expiredInFlight(this.now());
    let n = 0;
    for (const op of stale.filter((o) => o.kind === "enable")) if (await this.expire(op)) n++;
    return n;
  }

  private async expire(op: Operation): Promise<boolean> {
    if (op.status === "completing") return this.interrupt(op);
    // At the version read: an operation that moved on meanwhile (a new expiry) is not ended.
    const ended = await this.endOperation({
      op,
      status: "expired",
      actor: { slack: null },
      action: "enable.expired",
      details: { expired_at: op.expiresAt, was: op.status },
      version: op.version,
    });
    if (!ended) return false;
    await this.updateCard(ended, { kind: "expired" });
    await this.replyToRequester(
      ended,
      simpleMessage(
        `⌛ Your enable of ${op.org} expired before it finished. Nothing is connected. Run \`/ghconnect enable ${enableArgument(op)}\` to start again.`,
      ),
    );
    return true;
  }

  /**
   * A completion whose lease ran out: the replica completing it died or hangs. Its connection was
   * never written (that happens in one transaction with the operation's success), so ending the
   * operation with its credentials leaves nothing half-stored; a late answer is fenced out.
   */
  private async interrupt(op: Operation): Promise<boolean> {
    const appLink = op.app ? this.settingsUrl(op.app.owner, op.app.slug, op.accountKind) : undefined;
    const minutes = Math.round(this.completingLeaseMs() / 60_000);
    const reason = `ghconnect did not finish completing the connection within ${minutes} minute${minutes === 1 ? "" : "s"} (the bot was stopped, or GitHub or its database stopped answering). Nothing was stored: no connection, and the app's credentials were deleted.`;
    const hint = `${appLink ? `Delete the app created for this attempt at ${appLink}, then run` : "Run"} \`/ghconnect enable ${enableArgument(op)}\` again.`;
    const ended = await this.endOperation({
      op,
      status: "failed",
      actor: { slack: null },
      action: "enable.interrupted",
      details: { lease_ended_at: op.expiresAt },
      error: reason,
      version: op.version,
    });
    if (!ended) return false;
    await this.updateCard(ended, { kind: "interrupted", reason, hint });
    await this.replyToRequester(ended, simpleMessage(`⚠️ Your enable of ${op.org} was interrupted: ${reason}`, hint));
    return true;
  }

  /** Ends an in-flight operation: status, credentials deleted, states dropped, audited — at once. */
  private async endOperation(end: {
    op: Operation;
    status: Extract<OperationStatus, "failed" | "expired" | "cancelled">;
    actor: Actor;
    action: string;
    details: Record<string, unknown>;
    error?: string;
    /** Only at this version (a claim or a read the decision was based on). */
    version?: number | null;
  }): Promise<Operation | undefined> {
    const { op, status, error } = end;
    return this.deps.store.transaction(async (tx) => {
      const ended = await tx.operations.transition(op.id, IN_FLIGHT, { status, error: error ?? null }, end.version ?? undefined);
      if (!ended) return undefined;
      const deleted = await tx.credentials.deleteAll({ operationId: op.id });
      await tx.states.dropForOperation(op.id);
      await tx.audit.append({
        actor: end.actor,
        action: end.action,
        target: op.org,
        outcome: status === "cancelled" ? "ok" : "failed",
        details: { operation: op.id, ...end.details, ...(error ? { reason: error } : {}), credentials_deleted: deleted },
      });
      return ended;
    });
  }

  /** Fails the operation (at its current version), says so on the card and to the requester, and answers the page. */
  private async failPage(failure: {
    op: Operation;
    actor: Actor;
    action: string;
    reason: string;
    hint?: string;
    link?: { href: string; label: string };
    details?: Record<string, unknown>;
  }): Promise<PageResult> {
    const { op, reason, hint } = failure;
    const ended = await this.endOperation({
      op,
      status: "failed",
      actor: failure.actor,
      action: failure.action,
      details: failure.details ?? {},
      error: reason,
      version: op.version,
    });
    let notified = false;
    if (ended) {
      const carded = await this.updateCard(ended, { kind: "failed", reason, hint });
      const replied = await this.replyToRequester(ended, simpleMessage(`❌ Enabling ${op.org} failed: ${reason}`, hint));
      notified = carded || replied;
    }
    return {
      kind: "page",
      status: 422,
      tone: "error",
      title: "GitHub Connect was not enabled",
      message: `${reason} ${hint ?? ""}`.trim(),
      link: failure.link,
      notified,
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
      return `This enable of ${op.org} is completing right now; if it has not finished by ${when(op.expiresAt)}, it can be cancelled then.`;
    case "succeeded":
      return `This enable of ${op.org} already succeeded.`;
    case "failed":
      return `This enable of ${op.org} failed${op.error ? `: ${op.error}` : ""}. Run \`/ghconnect enable ${enableArgument(op)}\` to try again.`;
    case "expired":
      return `This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${enableArgument(op)}\` again.`;
    case "cancelled":
      return `This request was cancelled. Run \`/ghconnect enable ${enableArgument(op)}\` to start again.`;
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

/** After the addendum, an enterprise's owner registers the app by hand: the reply links the bot's guide. */
function registrationReply(op: Operation, link: string): Message {
  return {
    text: `Register the GitHub App for the enterprise ${op.org}: ${link}`,
    blocks: [
      {
        kind: "text",
        text: `Addendum accepted. GitHub does not create apps for an enterprise account from a manifest, so you register it by hand: the page lists every field to copy into GitHub's form (signed in as an owner of the enterprise *${op.org}*), then takes the app's credentials, which never go through Slack.`,
      },
      { kind: "actions", buttons: [{ action: "link", label: "Register the app", url: link, style: "primary" }] },
      { kind: "context", text: `This link is yours alone and expires at ${when(op.expiresAt)}; the form in it works once.` },
    ],
  };
}
