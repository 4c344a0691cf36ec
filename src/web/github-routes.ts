// The browser-facing routes of the enable flow. Parameters are validated before core sees them:
// a missing, oversized or malformed one is a 400 page and nothing changes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import {
  CALLBACK_PATH,
  CREDENTIALS_PATH,
  type EnableFlow,
  MANIFEST_PATH,
  type PageResult,
  REGISTER_PATH,
  SETUP_PATH,
} from "../core/enable.js";
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

/** A PEM key of 4096 bits is about 3.3 kB; nothing legitimate in the credentials form comes near this. */
export const MAX_CREDENTIALS_BODY = 16 * 1024;
const CREDENTIAL_FIELDS = ["state", "app_id", "client_id", "client_secret", "private_key"];

/**
 * The credentials form's body: url-encoded, at most MAX_CREDENTIALS_BODY bytes, each field once.
 * It carries a private key, so it is never logged and a problem never quotes it.
 */
async function credentialsBody(req: IncomingMessage): Promise<Record<string, string | undefined> | PageResult> {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    req.resume();
    return badRequest("The credentials form must be sent by the form on ghconnect's page.");
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
      return tooLarge;
    }
    chunks.push(chunk as Buffer);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
  const out: Record<string, string | undefined> = {};
  for (const name of CREDENTIAL_FIELDS) {
    const values = form.getAll(name);
    if (values.length > 1) return badRequest(`The field \`${name}\` appears more than once.`);
    out[name] = values[0] || undefined;
  }
  if (out.state !== undefined && (out.state.length > MAX_PARAM || !TOKENISH.test(out.state)))
    return badRequest("The form's state is malformed.");
  return out;
}

/** A page route: its parameters read and checked, then `run`; a failure is a page, never a stack trace. */
export function pageRoute(
  log: Logger,
  names: string[],
  run: (p: Record<string, string | undefined>) => Promise<PageResult>,
  read: (req: IncomingMessage, url: URL) => Promise<Record<string, string | undefined> | PageResult> = async (_req, url) =>
    params(url, names),
) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const p = await read(req, url);
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
  const handle = (
    names: string[],
    run: (p: Record<string, string | undefined>) => Promise<PageResult>,
    read?: (req: IncomingMessage, url: URL) => Promise<Record<string, string | undefined> | PageResult>,
  ) => pageRoute(log, names, run, read);
  return [
    { method: "GET", path: MANIFEST_PATH, handler: handle(["state"], (p) => enable.manifestPage(p.state)) },
    { method: "GET", path: REGISTER_PATH, handler: handle(["state"], (p) => enable.registerPage(p.state)) },
    { method: "POST", path: CREDENTIALS_PATH, handler: handle([], (p) => enable.submitCredentials(p), credentialsBody) },
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
