// The browser pages of an organization's enable on GitHub: the manifest form that creates the
// app, GitHub's callback with the app's creation code, and the installer's return (setup), which
// hands over to the completion. Anyone can request these pages: nothing acts without the flow's
// own, unused state of an operation waiting at that step.
import type { Actor } from "../audit.js";
import { enableArgument, when } from "../enable-card.js";
import { GitHubFlowRefused, UserError } from "../errors.js";
import type { Operation } from "../model.js";
import type { CreatedApp } from "../ports.js";
import { claimCompletion, complete, type SetupReturn } from "./complete.js";
import { type EnableContext, settingsUrl } from "./context.js";
import { failPage } from "./end.js";
import { keepAppAndInstall } from "./keep-app.js";
import { type PageOutcome, pageText } from "./outcome.js";
import { pageState, refuse, refuseNotWaiting } from "./page-refusals.js";
import { MISSING_STATE_PAGE, NOTHING_TO_DO_PAGE } from "./wording.js";

/** GitHub App permissions: the least the enabled features need. */
export const APP_PERMISSIONS = { metadata: "read", members: "read", issues: "read", pull_requests: "read" } as const;

export interface SetupParams {
  code?: string;
  installationId?: string;
  setupAction?: string;
  state?: string;
}

/** GET /ghconnect/manifest?state=…: the auto-submitting form that creates the app on GitHub. */
export async function manifestPage(ctx: EnableContext, state: string | undefined): Promise<PageOutcome> {
  if (!state)
    return refuse(ctx, {
      at: "manifest",
      refusal: "no_valid_state",
      reason: "no state",
      page: pageText("Missing state", "This page needs the link ghconnect sent you in Slack. Nothing was changed."),
    });
  const found = await pageState(ctx, "manifest", state, "manifest");
  if (!("operationId" in found)) return found;
  const { op, operationId } = found;
  if (op?.status !== "awaiting_github") return refuseNotWaiting(ctx, { at: "manifest", operationId, op, title: "Not waiting for GitHub" });
  const { config } = ctx.deps;
  return {
    kind: "manifest",
    org: op.org,
    action: `${config.githubUrl}/organizations/${encodeURIComponent(op.org)}/settings/apps/new?state=${encodeURIComponent(state)}`,
    manifest: {
      name: op.appName,
      url: config.ghesUrl,
      description: `GitHub Connect for ${new URL(config.ghesUrl).hostname}, managed by ghconnect. Requested by ${op.requestedByGhes ?? op.requestedBySlack}.`,
      public: false,
      redirect_url: config.pages.callback,
      // The first is where GitHub sends the installer; the second, where people link their account.
      callback_urls: [config.pages.setup, config.pages.linkCallback],
      request_oauth_on_install: true,
      hook_attributes: { url: config.pages.webhook, active: false },
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
export async function callback(ctx: EnableContext, code: string | undefined, state: string | undefined): Promise<PageOutcome> {
  if (!code || !state)
    return refuse(ctx, {
      at: "callback",
      refusal: state ? "incomplete" : "no_valid_state",
      reason: state ? "no code" : "no state",
      page: pageText("Missing parameters", "GitHub's redirect must carry both `code` and `state`. Nothing was changed."),
    });
  const found = await pageState(ctx, "callback", state, "manifest");
  if (!("operationId" in found)) return found;
  const { op, operationId } = found;
  if (op?.status !== "awaiting_github") return refuseNotWaiting(ctx, { at: "callback", operationId, op, title: "Not waiting for GitHub" });
  let app: CreatedApp;
  try {
    app = await ctx.deps.dotcom.convertManifest(code);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return refuseManifestCode(ctx, op, state, error);
  }
  return keepCreatedApp(ctx, op, state, app);
}

/** GitHub refused the code, or could not be asked: nothing changes and the way back is said. */
async function refuseManifestCode(ctx: EnableContext, op: Operation, state: string, error: UserError): Promise<PageOutcome> {
  const { store, config } = ctx.deps;
  // Another delivery of the same code may have just kept the app (codes work once).
  const now = await store.operations.get(op.id);
  if (now?.status !== "awaiting_github")
    return refuseNotWaiting(ctx, { at: "callback", operationId: op.id, op: now, title: "Already handled" });
  const refused = error instanceof GitHubFlowRefused;
  const why = error.message.replace(/ Nothing was stored\.$/, "");
  const until = when(now.expiresAt);
  return refuse(ctx, {
    at: "callback",
    refusal: refused ? "code_refused" : "code_unverified",
    reason: why,
    op: now,
    page: pageText(
      refused ? "GitHub refused the app's creation code" : "GitHub could not convert the app's creation code",
      `${why} Nothing was changed: the enable of ${op.org} still waits for GitHub, until ${until}. ${
        refused
          ? `Go back to the "Continue on GitHub" link ghconnect sent you in Slack (it works until then) and create the app again, signed in to github.com as an owner of ${op.org}. If GitHub says the name is already taken, first delete the app it created at ${config.githubUrl}/organizations/${op.org}/settings/apps.`
          : "Reload this page in a minute: the code works for an hour."
      }`,
      refused ? { href: `${config.pages.manifest}?state=${encodeURIComponent(state)}`, label: "Continue on GitHub" } : undefined,
    ),
  });
}

/** The converted app: its owner checked, then kept (see keepAppAndInstall). */
async function keepCreatedApp(ctx: EnableContext, op: Operation, state: string, app: CreatedApp): Promise<PageOutcome> {
  const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
  const appLink = settingsUrl(ctx, app.owner, app.slug);
  if (app.owner.toLowerCase() !== op.org.toLowerCase()) {
    return failPage(ctx, {
      op,
      actor,
      action: "enable.app_created",
      reason: `The app was created under ${app.owner}, not ${op.org}; nothing was stored.`,
      hint: `Delete it at ${appLink}, then run \`/ghconnect enable ${enableArgument(op)}\` again, signed in to github.com as an owner of ${op.org}.`,
      link: { href: appLink, label: `Delete ${app.slug} on GitHub` },
      details: { app_id: app.id, app_slug: app.slug, app_owner: app.owner },
    });
  }
  return keepAppAndInstall(ctx, {
    at: "callback",
    op,
    state,
    purpose: "manifest",
    waitingFor: "GitHub",
    app: { id: app.id, slug: app.slug, clientId: app.clientId, owner: app.owner },
    secrets: { privateKey: app.pem, clientSecret: app.clientSecret, webhookSecret: app.webhookSecret },
    appUrl: app.htmlUrl,
    audit: {
      actor,
      action: "enable.app_created",
      details: { operation: op.id, app_id: app.id, app_slug: app.slug, app_owner: app.owner, client_id: app.clientId },
    },
  });
}

/**
 * GET /ghconnect/github/setup?code&installation_id&setup_action&state: the installer's return.
 * Nothing acts without the flow's own `state`: anyone can send this URL, so a request without a
 * valid, unused install state of the waiting operation only records its refusal. With one, the
 * operation is claimed under a short lease and completed (see complete.ts).
 */
export async function setup(ctx: EnableContext, params: SetupParams): Promise<PageOutcome> {
  if (params.setupAction === "update") return NOTHING_TO_DO_PAGE;
  const ret = await validReturn(ctx, params);
  if (!("code" in ret)) return ret;
  const claimed = await claimCompletion(ctx, ret.op);
  if (!claimed) {
    return refuse(ctx, {
      at: "setup",
      refusal: "not_waiting",
      reason: "another request is completing this installation",
      op: ret.op,
      page: pageText("Already handled", "This installation is already being completed. Nothing was changed."),
    });
  }
  return complete(ctx, { ...ret, op: { ...claimed, app: ret.op.app }, waitingUntil: ret.op.expiresAt });
}

/** The flow's own state, its operation waiting for the installation, and a usable code and id. */
async function validReturn(ctx: EnableContext, params: SetupParams): Promise<SetupReturn | PageOutcome> {
  if (!params.state) return refuse(ctx, { at: "setup", refusal: "no_valid_state", reason: "no state", page: MISSING_STATE_PAGE });
  const found = await pageState(ctx, "setup", params.state, "install");
  if (!("operationId" in found)) return found;
  const { op, operationId } = found;
  if (op?.status !== "awaiting_install" || !op.app)
    return refuseNotWaiting(ctx, { at: "setup", operationId, op, title: "Not waiting for an installation" });
  if (!params.code) {
    return refuse(ctx, {
      at: "setup",
      refusal: "incomplete",
      reason: "no authorization code",
      op,
      page: pageText(
        "Missing authorization",
        "GitHub did not send an authorization code, so the installer cannot be verified. Nothing was changed.",
      ),
    });
  }
  if (!params.installationId || !/^\d{1,15}$/.test(params.installationId)) {
    return refuse(ctx, {
      at: "setup",
      refusal: "incomplete",
      reason: "no numeric installation_id",
      op,
      page: pageText("Missing installation", "GitHub's redirect must carry a numeric `installation_id`. Nothing was changed."),
    });
  }
  return {
    op: { ...op, app: op.app },
    state: params.state,
    code: params.code,
    installationId: Number(params.installationId),
  };
}
