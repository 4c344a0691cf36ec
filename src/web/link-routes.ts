// The browser's return from the person-linking sign-ins (`/ghconnect link`) on GHES and
// github.com. Parameters are checked like the enable pages' (githubRoutes' `pageRoute`).

import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { LINK_CALLBACK_PATH, LINK_COOKIE, LINK_START_PATH, type LinkSide } from "../core/identity.js";
import type { LinkService } from "../core/link.js";
import { type Params, pageRoute, params } from "./github-routes.js";
import { type Route, readFormBody } from "./http.js";

export function linkRoutes(links: LinkService, log: Logger): Route[] {
  const route = (side: LinkSide): Route => ({
    method: "GET",
    path: LINK_CALLBACK_PATH[side],
    handler: pageRoute({
      log,
      names: ["code", "state", "error"],
      read: readWithCookie,
      run: (p) => links.callback(side, { code: p.code, state: p.state, error: p.error, browser: p.browser }),
      // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
      refused: (reason, page) => links.refuseMalformed(side, reason, page),
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
      run: (p) => links.start({ state: p.state, browser: p.browser }),
      refused: (reason, page) => links.refuseMalformed("start", reason, page),
    }),
  };
  const confirm: Route = {
    method: "POST",
    path: LINK_START_PATH,
    handler: pageRoute({
      log,
      names: ["state", "token"],
      read: readConfirmForm,
      run: (p) => links.confirm({ state: p.state, token: p.token, browser: p.browser, origin: p.origin }),
      refused: (reason, page) => links.refuseMalformed("start", reason, page),
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
