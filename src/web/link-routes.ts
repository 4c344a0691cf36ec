// The person-linking pages (`/ghconnect link`): the start page the Slack buttons open, its
// confirmation form, and the browser's return from the sign-ins on GHES and github.com; where they
// live, the cookie that names the browser, and what each of core's outcomes is in HTTP.
// Parameters are checked like the enable pages' (page-route.ts).

import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { LinkSide } from "../core/identity.js";
import { LINK_TTL_MS, type LinkService } from "../core/link.js";
import type { LinkPageOutcome, LinkPageUrls, LinkRefusalCode } from "../core/link-outcome.js";
import { type Route, readFormBody } from "./http.js";
import { type Params, pageRoute, pageWords, params } from "./page-route.js";
import type { PageResult } from "./pages.js";

/** Every link page is under it, and the browser's cookie is sent there only. */
const LINK_PATH = "/ghconnect/link";
/** Where the Slack button points: binds the sign-in to this browser (a cookie), then on to GitHub. */
export const LINK_START_PATH = `${LINK_PATH}/start`;
/** Where each sign-in returns; the connected app lists the github.com one among its callback URLs. */
export const LINK_CALLBACK_PATH: Record<LinkSide, string> = {
  ghes: `${LINK_PATH}/ghes/callback`,
  github: `${LINK_PATH}/github/callback`,
};
/**
 * The browser's own random name, one per browser (not per link), sent back only to the link pages
 * (SameSite=Lax: on GitHub's redirect back, never on another site's POST). The confirmation form's
 * token and each sign-in's stored binding are derived from it and the link's state, so a form
 * posted from another site, a token read off another browser's page, or a sign-in finished in
 * another browser is refused; and two links open in two tabs of one browser do not undo each other.
 */
const LINK_COOKIE = "ghconnect_link";

/** The link pages' public URLs under the bot's PUBLIC_URL, for core (Slack buttons, form, OAuth redirect_uri). */
export function linkPageUrls(publicUrl: string): LinkPageUrls {
  return {
    start: `${publicUrl}${LINK_START_PATH}`,
    confirm: `${publicUrl}${LINK_START_PATH}`,
    callback: { ghes: `${publicUrl}${LINK_CALLBACK_PATH.ghes}`, github: `${publicUrl}${LINK_CALLBACK_PATH.github}` },
  };
}

/** A refused link page's status: the request was wrong (400), not this person's or browser's (403), late (409), or GitHub could not be asked (502). */
const REFUSAL_STATUS: Record<LinkRefusalCode, number> = {
  no_valid_link: 400,
  cancelled: 400,
  code_refused: 400,
  not_confirmed: 403,
  other_browser: 403,
  wrong_login: 403,
  not_connected: 409,
  login_taken: 409,
  code_unverified: 502,
};

/** The Set-Cookie value that keeps the browser's name, for the link pages only (under PUBLIC_URL's own path, if it has one). */
function browserCookie(publicUrl: string, browser: string): string {
  const base = new URL(publicUrl).pathname.replace(/\/+$/, "");
  const secure = publicUrl.startsWith("https:") ? "; Secure" : "";
  return `${LINK_COOKIE}=${browser}; Path=${base}${LINK_PATH}; Max-Age=${LINK_TTL_MS / 1000}; HttpOnly; SameSite=Lax${secure}`;
}

/** Core's outcome of a link page as the browser gets it. */
export function linkPage(outcome: LinkPageOutcome, publicUrl: string): PageResult {
  switch (outcome.kind) {
    case "confirm":
      return { ...outcome, cookies: [browserCookie(publicUrl, outcome.browser)] };
    case "redirect":
      return { kind: "redirect", location: outcome.location, cookies: [browserCookie(publicUrl, outcome.browser)] };
    case "linked":
      return { ...pageWords(outcome), kind: "page", status: 200, tone: "ok" };
    case "refused":
      return { ...pageWords(outcome), kind: "page", status: REFUSAL_STATUS[outcome.refusal], tone: "error" };
  }
}

export function linkRoutes(links: LinkService, log: Logger, publicUrl: string): Route[] {
  // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
  const refuseMalformed =
    (at: LinkSide | "start") =>
    async (reason: string, page: PageResult): Promise<PageResult> => {
      await links.refuseMalformed(at, reason);
      return page;
    };
  const route = (side: LinkSide): Route => ({
    method: "GET",
    path: LINK_CALLBACK_PATH[side],
    handler: pageRoute({
      log,
      names: ["code", "state", "error"],
      read: readWithCookie,
      run: async (p) =>
        linkPage(await links.callback(side, { code: p.code, state: p.state, error: p.error, browser: p.browser }), publicUrl),
      refused: refuseMalformed(side),
    }),
  });
  // GET shows whose link it is and changes nothing (link-preview bots open it too); only the
  // page's form, POSTed from this browser, continues to GitHub.
  const start: Route = {
    method: "GET",
    path: LINK_START_PATH,
    handler: pageRoute({
      log,
      names: ["state"],
      read: readStart,
      run: async (p) => linkPage(await links.start({ state: p.state, browser: p.browser }), publicUrl),
      refused: refuseMalformed("start"),
    }),
  };
  const confirm: Route = {
    method: "POST",
    path: LINK_START_PATH,
    handler: pageRoute({
      log,
      names: ["state", "token"],
      read: readConfirmForm,
      run: async (p) => linkPage(await links.confirm({ state: p.state, token: p.token, browser: p.browser, origin: p.origin }), publicUrl),
      refused: refuseMalformed("start"),
    }),
  };
  return [start, confirm, route("ghes"), route("github")];
}

/** Nothing legitimate in the confirmation form (a state and a token) comes near this. */
const MAX_CONFIRM_BODY = 2048;

/** The confirmation form (url-encoded, small, each field once), its cookie and the Origin header. */
async function readConfirmForm(req: IncomingMessage): Promise<Params> {
  const bad = (reason: string, message: string): Params => ({
    ok: false,
    reason,
    page: { kind: "page", status: 400, tone: "error", title: "Bad request", message: `${message} Nothing was linked.` },
  });
  const body = await readFormBody(req, MAX_CONFIRM_BODY);
  if (!body.ok)
    return body.why === "too large"
      ? bad(`body over ${MAX_CONFIRM_BODY} bytes`, "The form is larger than the confirmation form is.")
      : bad("not a form body", "This page takes the form on ghconnect's confirmation page only.");
  const read = params(new URL(`http://form/?${body.text}`), ["state", "token"]);
  if (!read.ok) return read;
  const origin = req.headers.origin;
  return {
    ok: true,
    values: { ...read.values, browser: cookie(req, LINK_COOKIE), origin: typeof origin === "string" ? origin : undefined },
  };
}

/** A cookie of ours, when well-formed; a bad one is absent. */
function cookie(req: IncomingMessage, name: string): string | undefined {
  const found = (req.headers.cookie ?? "")
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${name}=`));
  const value = found?.slice(name.length + 1);
  return value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

/** The start page's state plus the browser's cookie, when it has one already. */
async function readStart(req: IncomingMessage, url: URL) {
  const read = params(url, ["state"]);
  if (!read.ok) return read;
  return { ok: true as const, values: { ...read.values, browser: cookie(req, LINK_COOKIE) } };
}

/** The callback's parameters plus the browser-binding cookie (as `browser`); a bad cookie is absent. */
async function readWithCookie(req: IncomingMessage, url: URL) {
  const read = params(url, ["code", "state", "error"]);
  if (!read.ok) return read;
  return { ok: true as const, values: { ...read.values, browser: cookie(req, LINK_COOKIE) } };
}
