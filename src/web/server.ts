// The one HTTP server on PORT: Slack's requests (HTTP mode) go to Bolt's receiver after our
// extra checks; everything else is a route of ours (healthz, metrics, the GitHub pages). Socket
// Mode uses the same server, without the Slack endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { GatedHttpReceiver } from "../slack/http-receiver.js";
import { refuse, slackGate } from "../slack/request-guard.js";
import { type Route, sendJson } from "./http.js";

export const SLACK_EVENTS_PATH = "/slack/events";

export interface ServerDeps {
  routes: Route[];
  /** Bolt's receiver, in HTTP mode, with what the gate in front of it needs. */
  slackReceiver?: Pick<GatedHttpReceiver, "handle">;
  signingSecret?: string;
  bodyLimit?: number;
  /** The response_url rule (slack/payload.ts): a request naming another host is a 400. */
  responseUrlAllowed?: (url: string) => boolean;
  /** Told how long each Slack request took to answer (its ack), for metrics. */
  onSlackAnswered?: (seconds: number) => void;
  log: Logger;
  now?: () => number;
}

export function createAppServer(deps: ServerDeps): Server {
  const now = deps.now ?? Date.now;
  const table = new Map(deps.routes.map((r) => [`${r.method} ${r.path}`, r.handler]));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendJson(res, 400, { error: "malformed request URL" });
    }
    if (url.pathname === SLACK_EVENTS_PATH && deps.slackReceiver) {
      if (req.method !== "POST") return sendJson(res, 405, { error: "Slack requests are POSTed" });
      const receiver = deps.slackReceiver;
      const started = process.hrtime.bigint();
      res.once("finish", () => deps.onSlackAnswered?.(Number(process.hrtime.bigint() - started) / 1e9));
      slackGate(req, {
        signingSecret: deps.signingSecret ?? "",
        bodyLimit: deps.bodyLimit ?? 256 * 1024,
        now,
        responseUrlAllowed: deps.responseUrlAllowed,
      })
        .then((gate) => {
          if (gate.pass) return receiver.handle(req, res, gate.parsed);
          deps.log.warn({ status: gate.status, reason: gate.reason }, "refused a Slack request");
          refuse(res, gate.status, gate.reason);
        })
        .catch((error) => {
          deps.log.error({ err: error }, "Slack request gate failed");
          if (!res.headersSent) refuse(res, 400, "bad request");
        });
      return;
    }
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
