// How any browser page of the bot is served: its parameters read and checked before core sees
// them (a missing, oversized or malformed one is a 400 page and nothing changes), the page or
// redirect sent with the same security headers, and a failure shown as a page, never a stack trace.
// Each flow's routes (github-routes.ts, link-routes.ts) own their paths and statuses.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { PageText } from "../core/enable/index.js";
import { DatabaseUnavailable } from "../core/errors.js";
import { type PageResult, renderPage } from "./pages.js";

/** A page's words as core gave them (an outcome carries more), for a status page. */
export const pageWords = (page: PageText) => ({
  title: page.title,
  message: page.message,
  ...(page.link ? { link: page.link } : {}),
});

export const MAX_PARAM = 512;
export const TOKENISH = /^[A-Za-z0-9._~-]+$/;

function send(res: ServerResponse, result: PageResult): void {
  const security = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  };
  if (result.kind === "redirect") {
    res.writeHead(302, { ...security, location: result.location, ...(result.cookies ? { "set-cookie": result.cookies } : {}) });
    res.end();
    return;
  }
  const { status, html } = renderPage(result);
  const cookies = result.kind === "confirm" ? { "set-cookie": result.cookies } : {};
  res.writeHead(status, { ...security, "content-type": "text/html; charset=utf-8", ...cookies });
  res.end(html);
}

/** A page refusing a request the web adapter could not read. */
export type ErrorPage = Extract<PageResult, { kind: "page" }>;

export function badRequest(message: string): ErrorPage {
  return { kind: "page", status: 400, tone: "error", title: "Bad request", message: `${message} Nothing was changed.` };
}

export type Params = { ok: true; values: Record<string, string | undefined> } | { ok: false; reason: string; page: ErrorPage };

/** Reads the named parameters; undefined values are absent, a bad one is a 400 page (audited by the caller). */
export function params(url: URL, names: string[]): Params {
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

/**
 * A page route: its parameters read and checked, then `run`; a failure is a page, never a stack
 * trace. A malformed request gets `refused` (the enable and link pages count it on the audit trail).
 */
export function pageRoute(options: {
  log: Logger;
  names: string[];
  run: (p: Record<string, string | undefined>) => Promise<PageResult>;
  read?: (req: IncomingMessage, url: URL) => Promise<Params>;
  refused?: (reason: string, page: ErrorPage) => Promise<PageResult>;
}) {
  const { log, names, run } = options;
  const read = options.read ?? (async (_req: IncomingMessage, url: URL) => params(url, names));
  const refused = options.refused ?? (async (_reason: string, page: ErrorPage) => page);
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    try {
      const p = await read(req, url);
      send(res, p.ok ? await run(p.values) : await refused(p.reason, p.page));
    } catch (error) {
      log.error({ err: error, path: url.pathname }, "GitHub page failed");
      const databaseDown = error instanceof DatabaseUnavailable;
      send(res, {
        kind: "page",
        status: databaseDown ? 503 : 500,
        tone: "error",
        title: databaseDown ? "Database unavailable" : "Something went wrong",
        message: databaseDown
          ? "The bot's database is unavailable, so nothing was done. Try again in a minute."
          : "ghconnect could not finish this step; nothing was half-done. The operator can find the details in the bot's logs.",
      });
    }
  };
}
