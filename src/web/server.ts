// The one HTTP server on PORT: Slack's requests (HTTP mode) go to the Slack adapter's handler
// (slack/events-endpoint.ts: our checks, then Bolt); everything else is a route of ours (healthz,
// metrics, the GitHub pages). Socket Mode uses the same server, without the Slack endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { type Route, sendJson } from "./http.js";

export const SLACK_EVENTS_PATH = "/slack/events";

export interface ServerDeps {
  routes: Route[];
  /** In HTTP mode, what answers POST /slack/events (the Slack adapter's gate and Bolt's receiver). */
  slackEvents?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Told how long each Slack request took to answer (its ack), for metrics. */
  onSlackAnswered?: (seconds: number) => void;
  log: Logger;
}

export function createAppServer(deps: ServerDeps): Server {
  const table = new Map(deps.routes.map((r) => [`${r.method} ${r.path}`, r.handler]));
  const slackRequest = (req: IncomingMessage, res: ServerResponse, handle: NonNullable<ServerDeps["slackEvents"]>) => {
    if (req.method !== "POST") return sendJson(res, 405, { error: "Slack requests are POSTed" });
    const started = process.hrtime.bigint();
    res.once("finish", () => deps.onSlackAnswered?.(Number(process.hrtime.bigint() - started) / 1e9));
    handle(req, res);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Slack's requests name the path exactly: no URL to parse for them (about 1.5 % of the bot's
    // CPU per answer under sustained load); any other spelling of it is parsed and normalized below.
    if (req.url === SLACK_EVENTS_PATH && deps.slackEvents) return slackRequest(req, res, deps.slackEvents);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendJson(res, 400, { error: "malformed request URL" });
    }
    if (url.pathname === SLACK_EVENTS_PATH && deps.slackEvents) return slackRequest(req, res, deps.slackEvents);
    const handler = table.get(`${req.method} ${url.pathname}`);
    if (!handler) {
      const known = deps.routes.some((r) => r.path === url.pathname);
      req.resume();
      return sendJson(res, known ? 405 : 404, { error: known ? "method not allowed" : "not found" });
    }
    Promise.resolve(handler(req, res, url)).catch((error) => {
      deps.log.error({ err: error, path: url.pathname }, "route failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error; see the bot's logs" });
      else res.end();
    });
  });
  // Slow-loris and idle sockets must not pile up behind a proxy.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
