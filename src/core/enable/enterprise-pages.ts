// The browser pages of an enterprise's enable: GitHub takes no manifest for an enterprise-owned
// app, so the owner registers it by hand from a guide, then sends its credentials to the bot,
// which verifies them with GitHub before keeping anything.
import type { Actor } from "../audit.js";
import { when } from "../enable-card.js";
import {
  clientSecretProblem,
  newEnterpriseAppUrl,
  readCredentialsForm,
  registrationFields,
  registrationProblem,
  slugCheckNotice,
} from "../enterprise-registration.js";
import type { Operation } from "../model.js";
import type { EnableContext } from "./context.js";
import { keepAppAndInstall } from "./keep-app.js";
import { type PageOutcome, type PageRefusalCode, pageText } from "./outcome.js";
import { pageState, refuse, refuseNotWaiting } from "./page-refusals.js";

/**
 * GET /ghconnect/enterprise/register?state=…: the guide to registering the enterprise's app by
 * hand (GitHub takes no manifest for an enterprise-owned app), every field pre-computed, and the
 * form that takes the app's credentials. The state is only looked at here: the page may be
 * reloaded, and the form works until the credentials are accepted or the state expires.
 */
export async function registerPage(ctx: EnableContext, state: string | undefined): Promise<PageOutcome> {
  const found = await registeringOperation(ctx, "register", state);
  if (!("op" in found)) return found;
  const { config } = ctx.deps;
  const { op } = found;
  return {
    kind: "register",
    enterprise: op.org,
    newAppUrl: newEnterpriseAppUrl(config.githubUrl, op.org),
    slugNotice: slugCheckNotice(config.githubUrl, op.org),
    fields: registrationFields({
      op,
      ghesUrl: config.ghesUrl,
      setupUrl: config.pages.setup,
      linkUrl: config.pages.linkCallback,
    }),
    formAction: config.pages.credentials,
    state: state as string,
    expiresAt: when(op.expiresAt),
  };
}

/** The register state, unused and unexpired, of an enterprise enable waiting for its app; else the refusal page. */
async function registeringOperation(
  ctx: EnableContext,
  at: "register" | "credentials",
  state: string | undefined,
): Promise<{ op: Operation } | PageOutcome> {
  if (!state)
    return refuse(ctx, {
      at,
      refusal: "no_valid_state",
      reason: "no state",
      page: pageText("Missing state", "This page needs the link ghconnect sent you in Slack. Nothing was changed."),
    });
  const found = await pageState(ctx, at, state, "register");
  if (!("operationId" in found)) return found;
  const { op, operationId } = found;
  if (op?.status !== "awaiting_github" || op.accountKind !== "enterprise")
    return refuseNotWaiting(ctx, { at, operationId, op, title: "Not waiting for the app's credentials" });
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
export async function submitCredentials(ctx: EnableContext, fields: Record<string, string | undefined>): Promise<PageOutcome> {
  const { config } = ctx.deps;
  const found = await registeringOperation(ctx, "credentials", fields.state);
  if (!("op" in found)) return found;
  const { op } = found;
  const state = fields.state as string;
  const retry = { href: `${config.pages.register}?state=${encodeURIComponent(state)}`, label: "Back to the form" };
  const refused = (refusal: PageRefusalCode, problem: string) =>
    refuse(ctx, {
      at: "credentials",
      refusal,
      reason: problem,
      op,
      page: pageText(
        "Credentials not accepted",
        `${problem} Nothing was stored. The form works until ${when(op.expiresAt)}: correct it and send it again.`,
        retry,
      ),
    });
  const read = readCredentialsForm(fields);
  if (!read.ok) return refused("malformed_credentials", read.problem);
  const { form } = read;
  const app = await ctx.deps.dotcom.registeredApp({ appId: form.appId, privateKey: form.privateKey });
  if (!app)
    return refused(
      "key_refused",
      `GitHub refused a token signed with this private key for app id ${form.appId}: the key is not one of that app's keys, or there is no such app.`,
    );
  const problem = registrationProblem(app, { slug: op.org, clientId: form.clientId });
  if (problem) return refused("wrong_app", problem);
  const secret = await clientSecretProblem(ctx.deps.dotcom, { app, form });
  if (secret?.refusal === "secret_unverified")
    return refuse(ctx, {
      at: "credentials",
      refusal: secret.refusal,
      reason: secret.problem,
      op,
      page: pageText("Client secret not checked", `${secret.problem} The form works until ${when(op.expiresAt)}.`, retry),
    });
  if (secret) return refused(secret.refusal, secret.problem);
  const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
  return keepAppAndInstall(ctx, {
    at: "credentials",
    op,
    state,
    purpose: "register",
    waitingFor: "the app",
    app: { id: app.id, slug: app.slug, clientId: app.clientId, owner: op.org },
    secrets: { privateKey: form.privateKey, clientSecret: form.clientSecret },
    version: op.version,
    appUrl: `${config.githubUrl}/apps/${app.slug}`,
    audit: {
      actor,
      action: "enable.app_registered",
      details: {
        operation: op.id,
        account_kind: "enterprise",
        app_id: app.id,
        app_slug: app.slug,
        app_owner: app.owner.login,
        client_id: app.clientId,
        permissions: app.permissions,
      },
    },
  });
}
