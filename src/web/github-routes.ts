// The browser-facing routes of the enable flow: where they live, and what each of core's
// outcomes is in HTTP. Parameters are validated before core sees them (page-route.ts): a
// missing, oversized or malformed one is a 400 page and nothing changes.
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { EnableFlow, EnablePageUrls, GitHubPage, PageOutcome, PageRefusalCode } from "../core/enable/index.js";
import { type Route, readFormBody } from "./http.js";
import { LINK_CALLBACK_PATH } from "./link-routes.js";
import { badRequest, type ErrorPage, MAX_PARAM, type Params, pageRoute, pageWords, TOKENISH } from "./page-route.js";
import type { PageResult } from "./pages.js";

export const CALLBACK_PATH = "/ghconnect/github/callback";
export const SETUP_PATH = "/ghconnect/github/setup";
export const MANIFEST_PATH = "/ghconnect/manifest";
export const REGISTER_PATH = "/ghconnect/enterprise/register";
export const CREDENTIALS_PATH = "/ghconnect/enterprise/credentials";
/** The app's webhook URL: GitHub requires one, the manifest marks it inactive and nothing serves it. */
export const WEBHOOK_PATH = "/ghconnect/github/webhook";

/** The enable flow's public URLs under the bot's PUBLIC_URL, for core (manifest, replies, guide). */
export function enablePageUrls(publicUrl: string): EnablePageUrls {
  return {
    manifest: `${publicUrl}${MANIFEST_PATH}`,
    callback: `${publicUrl}${CALLBACK_PATH}`,
    setup: `${publicUrl}${SETUP_PATH}`,
    register: `${publicUrl}${REGISTER_PATH}`,
    credentials: `${publicUrl}${CREDENTIALS_PATH}`,
    linkCallback: `${publicUrl}${LINK_CALLBACK_PATH.github}`,
    webhook: `${publicUrl}${WEBHOOK_PATH}`,
  };
}

/** A refused request's status: the request was wrong (400), late (409), unusable (422), or GitHub could not be asked (502). */
const REFUSAL_STATUS: Record<PageRefusalCode, number> = {
  no_valid_state: 400,
  incomplete: 400,
  malformed: 400,
  code_refused: 400,
  authorization_refused: 400,
  not_waiting: 409,
  too_late: 409,
  malformed_credentials: 422,
  key_refused: 422,
  wrong_app: 422,
  secret_refused: 422,
  code_unverified: 502,
  authorization_unverified: 502,
  secret_unverified: 502,
};

/** Core's outcome of an enable page as the browser gets it. */
export function enablePage(outcome: PageOutcome): PageResult {
  switch (outcome.kind) {
    case "manifest":
    case "register":
    case "redirect":
      return outcome;
    case "connected":
      return { ...pageWords(outcome), kind: "page", status: 200, tone: "ok", notified: outcome.notified };
    case "nothing_to_do":
      return { ...pageWords(outcome), kind: "page", status: 200, tone: "neutral" };
    case "refused":
      return { ...pageWords(outcome), kind: "page", status: REFUSAL_STATUS[outcome.refusal], tone: "error" };
    case "failed":
      return { ...pageWords(outcome), kind: "page", status: 422, tone: "error", notified: outcome.notified };
  }
}

/** A PEM key of 4096 bits is about 3.3 kB; nothing legitimate in the credentials form comes near this. */
export const MAX_CREDENTIALS_BODY = 16 * 1024;
const CREDENTIAL_FIELDS = ["state", "app_id", "client_id", "client_secret", "private_key"];

/**
 * The credentials form's body: url-encoded, at most MAX_CREDENTIALS_BODY bytes, each field once.
 * It carries a private key, so it is never logged and a problem never quotes it.
 */
async function credentialsBody(req: IncomingMessage): Promise<Params> {
  const body = await readFormBody(req, MAX_CREDENTIALS_BODY);
  if (!body.ok) {
    if (body.why === "not a form body")
      return {
        ok: false,
        reason: "not a form body",
        page: badRequest("The credentials form must be sent by the form on ghconnect's page."),
      };
    const tooLarge: ErrorPage = {
      kind: "page",
      status: 413,
      tone: "error",
      title: "Form too large",
      message: `The form is larger than ${MAX_CREDENTIALS_BODY / 1024} kB, which no app's credentials are. Nothing was changed.`,
    };
    return { ok: false, reason: `body over ${MAX_CREDENTIALS_BODY} bytes`, page: tooLarge };
  }
  const form = new URLSearchParams(body.text);
  const out: Record<string, string | undefined> = {};
  for (const name of CREDENTIAL_FIELDS) {
    const values = form.getAll(name);
    if (values.length > 1)
      return { ok: false, reason: `${name} appears more than once`, page: badRequest(`The field \`${name}\` appears more than once.`) };
    out[name] = values[0] || undefined;
  }
  if (out.state !== undefined && (out.state.length > MAX_PARAM || !TOKENISH.test(out.state)))
    return { ok: false, reason: "state is malformed", page: badRequest("The form's state is malformed.") };
  return { ok: true, values: out };
}

export function githubRoutes(enable: EnableFlow, log: Logger): Route[] {
  // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
  const handle = (
    at: GitHubPage,
    names: string[],
    run: (p: Record<string, string | undefined>) => Promise<PageOutcome>,
    read?: (req: IncomingMessage, url: URL) => Promise<Params>,
  ) =>
    pageRoute({
      log,
      names,
      run: async (p) => enablePage(await run(p)),
      read,
      refused: async (reason, page) => {
        await enable.refuseMalformed(at, reason);
        return page;
      },
    });
  return [
    { method: "GET", path: MANIFEST_PATH, handler: handle("manifest", ["state"], (p) => enable.manifestPage(p.state)) },
    { method: "GET", path: REGISTER_PATH, handler: handle("register", ["state"], (p) => enable.registerPage(p.state)) },
    {
      method: "POST",
      path: CREDENTIALS_PATH,
      handler: handle("credentials", [], (p) => enable.submitCredentials(p), credentialsBody),
    },
    { method: "GET", path: CALLBACK_PATH, handler: handle("callback", ["code", "state"], (p) => enable.callback(p.code, p.state)) },
    {
      method: "GET",
      path: SETUP_PATH,
      handler: handle("setup", ["code", "installation_id", "setup_action", "state"], (p) =>
        enable.setup({ code: p.code, installationId: p.installation_id, setupAction: p.setup_action, state: p.state }),
      ),
    },
  ];
}
