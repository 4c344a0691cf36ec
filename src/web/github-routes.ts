// The browser-facing routes of the enable flow. Parameters are validated before core sees them:
// a missing, oversized or malformed one is a 400 page and nothing changes.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { CALLBACK_PATH, type EnableFlow, MANIFEST_PATH, type PageResult, SETUP_PATH } from "../core/enable.js";
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

/** Reads the named parameters; undefined values are absent, a bad one is a 400 page. */
function params(url: URL, names: string[]): Record<string, string | undefined> | PageResult {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const values = url.searchParams.getAll(name);
    if (values.length > 1) return badRequest(`The parameter \`${name}\` appears more than once.`);
    const value = values[0];
    if (value === undefined || value === "") continue;
    if (value.length > MAX_PARAM || !TOKENISH.test(value)) return badRequest(`The parameter \`${name}\` is malformed.`);
    out[name] = value;
  }
  return out;
}

/** A GET page route: its parameters checked, then `run`; a failure is a page, never a stack trace. */
export function pageRoute(log: Logger, names: string[], run: (p: Record<string, string | undefined>) => Promise<PageResult>) {
  return async (_req: unknown, res: ServerResponse, url: URL) => {
    const p = params(url, names);
    if ("kind" in p && typeof p.kind === "string" && (p as PageResult).kind === "page") return send(res, p as PageResult);
    try {
      send(res, await run(p as Record<string, string | undefined>));
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
}

export function githubRoutes(enable: EnableFlow, log: Logger): Route[] {
  const handle = (names: string[], run: (p: Record<string, string | undefined>) => Promise<PageResult>) => pageRoute(log, names, run);
  return [
    { method: "GET", path: MANIFEST_PATH, handler: handle(["state"], (p) => enable.manifestPage(p.state)) },
    { method: "GET", path: CALLBACK_PATH, handler: handle(["code", "state"], (p) => enable.callback(p.code, p.state)) },
    {
      method: "GET",
      path: SETUP_PATH,
      handler: handle(["code", "installation_id", "setup_action", "state"], (p) =>
        enable.setup({ code: p.code, installationId: p.installation_id, setupAction: p.setup_action, state: p.state }),
      ),
    },
  ];
}
