// The browser-facing routes of the enable flow. Parameters are validated before core sees them:
// a missing, oversized or malformed one is a 400 page and nothing changes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import {
  CALLBACK_PATH,
  CREDENTIALS_PATH,
  type EnableFlow,
  type GitHubPage,
  MANIFEST_PATH,
  type PageResult,
  REGISTER_PATH,
  SETUP_PATH,
} from "../core/enable.js";
import { DatabaseUnavailable } from "../core/errors.js";
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
    res.writeHead(302, { ...security, location: result.location, ...(result.cookies ? { "set-cookie": result.cookies } : {}) });
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

export type Params = { ok: true; values: Record<string, string | undefined> } | { ok: false; reason: string; page: PageResult };

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

/** A PEM key of 4096 bits is about 3.3 kB; nothing legitimate in the credentials form comes near this. */
export const MAX_CREDENTIALS_BODY = 16 * 1024;
const CREDENTIAL_FIELDS = ["state", "app_id", "client_id", "client_secret", "private_key"];

/**
 * The credentials form's body: url-encoded, at most MAX_CREDENTIALS_BODY bytes, each field once.
 * It carries a private key, so it is never logged and a problem never quotes it.
 */
async function credentialsBody(req: IncomingMessage): Promise<Params> {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    req.resume();
    return { ok: false, reason: "not a form body", page: badRequest("The credentials form must be sent by the form on ghconnect's page.") };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CREDENTIALS_BODY) {
      req.resume();
      const tooLarge: PageResult = {
        kind: "page",
        status: 413,
        tone: "error",
        title: "Form too large",
        message: `The form is larger than ${MAX_CREDENTIALS_BODY / 1024} kB, which no app's credentials are. Nothing was changed.`,
      };
      return { ok: false, reason: `body over ${MAX_CREDENTIALS_BODY} bytes`, page: tooLarge };
    }
    chunks.push(chunk as Buffer);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
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

/**
 * A page route: its parameters read and checked, then `run`; a failure is a page, never a stack
 * trace. A malformed request gets `refused` (the GitHub pages count it on the audit trail).
 */
export function pageRoute(options: {
  log: Logger;
  names: string[];
  run: (p: Record<string, string | undefined>) => Promise<PageResult>;
  read?: (req: IncomingMessage, url: URL) => Promise<Params>;
  refused?: (reason: string, page: PageResult) => Promise<PageResult>;
}) {
  const { log, names, run } = options;
  const read = options.read ?? (async (_req: IncomingMessage, url: URL) => params(url, names));
  const refused = options.refused ?? (async (_reason: string, page: PageResult) => page);
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

export function githubRoutes(enable: EnableFlow, log: Logger): Route[] {
  // A malformed request is refused like a forged state: counted on the audit trail, coalesced.
  const handle = (
    at: GitHubPage,
    names: string[],
    run: (p: Record<string, string | undefined>) => Promise<PageResult>,
    read?: (req: IncomingMessage, url: URL) => Promise<Params>,
  ) => pageRoute({ log, names, run, read, refused: (reason, page) => enable.refuseMalformed(at, reason, page) });
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
