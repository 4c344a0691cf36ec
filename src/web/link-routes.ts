// The browser's return from the person-linking sign-ins (`/ghconnect link`) on GHES and
// github.com. Parameters are checked like the enable pages' (githubRoutes' `pageRoute`).
import type { Logger } from "pino";
import { LINK_CALLBACK_PATH, type LinkSide } from "../core/identity.js";
import type { LinkService } from "../core/link.js";
import { pageRoute } from "./github-routes.js";
import type { Route } from "./http.js";

export function linkRoutes(links: LinkService, log: Logger): Route[] {
  const route = (side: LinkSide): Route => ({
    method: "GET",
    path: LINK_CALLBACK_PATH[side],
    handler: pageRoute({
      log,
      names: ["code", "state", "error"],
      run: (p) => links.callback(side, { code: p.code, state: p.state, error: p.error }),
      // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
      refused: (reason, page) => links.refuseMalformed(side, reason, page),
    }),
  });
  return [route("ghes"), route("github")];
}
