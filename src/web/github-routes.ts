// The browser-facing routes of the enable flow. Parameters are validated before core sees them:
// a missing, oversized or malformed one is a 400 page and nothing changes.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { CALLBACK_PATH, type EnableFlow, type GitHubPage, MANIFEST_PATH, type PageResult, SETUP_PATH } from "../core/enable.js";
import { isDatabaseError } from "../db/errors.js";
import type { Route } from "./http.js";
import { renderPage } from "./pages.js";

const MAX_PARAM = 512;
const TOKENISH = /^[A-Za-z0-9._~-]+$/;

function send(res: ServerResponse, result: PageResult): void {
  const security = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
  if (result.kind === "redirect") {
    res.writeHead(302, { ...security, location: result.location });
    res.end();
    return;
  }
  const { status, html } = renderPage(result);
  res.writeHead(status, { ...security, "content-type": "text/html; charset=utf-8" });
  res.end(html);
}

function badRequest(message: string): PageResult {
  return { kind: "page", status: 400, tone: "error", title: "Bad request", message: `${message} Nothing was changed.` };
}

type Params = { ok: true; values: Record<string, string | undefined> } | { ok: false; reason: string; page: PageResult };

/** Reads the named parameters; undefined values are absent, a bad one is a 400 page (audited by the caller). */
function params(url: URL, names: string[]): Params {
  const values: Record<string, string | undefined> = {};
  for (const name of names) {
    const given = url.searchParams.getAll(name);
    if (given.length > 1)
      return { ok: false, reason: `${name} appears more than once`, page: badRequest(`The parameter \`${name}\` appears more than once.`) };
    const value = given[0];
    if (value === undefined || value === "") continue;
    if (value.length > MAX_PARAM || !TOKENISH.test(value))
      return {
        ok: false,
        reason:
          value.length > MAX_PARAM
            ? `${name} is longer than ${MAX_PARAM} characters`
            : `${name} holds characters outside the URL-token alphabet`,
        page: badRequest(`The parameter \`${name}\` is malformed.`),
      };
    values[name] = value;
  }
  return { ok: true, values };
}

export function githubRoutes(enable: EnableFlow, log: Logger): Route[] {
  const handle =
    (at: GitHubPage, names: string[], run: (p: Record<string, string | undefined>) => Promise<PageResult>) =>
    async (_req: unknown, res: ServerResponse, url: URL) => {
      const p = params(url, names);
      try {
        // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
        send(res, p.ok ? await run(p.values) : await enable.refuseMalformed(at, p.reason, p.page));
      } catch (error) {
        log.error({ err: error, path: url.pathname }, "GitHub page failed");
        send(res, {
          kind: "page",
          status: isDatabaseError(error) ? 503 : 500,
          tone: "error",
          title: isDatabaseError(error) ? "Database unavailable" : "Something went wrong",
          message: isDatabaseError(error)
            ? "The bot's database is unavailable, so nothing was done. Try again in a minute."
            : "ghconnect could not finish this step; nothing was half-done. The operator can find the details in the bot's logs.",
        });
      }
    };
  return [
    { method: "GET", path: MANIFEST_PATH, handler: handle("manifest", ["state"], (p) => enable.manifestPage(p.state)) },
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
