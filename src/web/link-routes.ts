// The browser's return from the person-linking sign-ins (`/ghconnect link`) on GHES and
// github.com. Parameters are checked like the enable pages' (githubRoutes' `pageRoute`).

import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { LINK_CALLBACK_PATH, LINK_COOKIE, LINK_START_PATH, type LinkSide } from "../core/identity.js";
import type { LinkService } from "../core/link.js";
import { pageRoute, params } from "./github-routes.js";
import type { Route } from "./http.js";

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
  const start: Route = {
    method: "GET",
    path: LINK_START_PATH,
    handler: pageRoute({
      log,
      names: ["state"],
      run: (p) => links.start({ state: p.state }),
      refused: (reason, page) => links.refuseMalformed("start", reason, page),
    }),
  };
  return [start, route("ghes"), route("github")];
}

/** The callback's parameters plus the browser-binding cookie (as `browser`); a bad cookie is absent. */
async function readWithCookie(req: IncomingMessage, url: URL) {
  const read = params(url, ["code", "state", "error"]);
  if (!read.ok) return read;
  const cookie = (req.headers.cookie ?? "")
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${LINK_COOKIE}=`));
  const value = cookie?.slice(LINK_COOKIE.length + 1);
  return { ok: true as const, values: { ...read.values, browser: value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined } };
}
