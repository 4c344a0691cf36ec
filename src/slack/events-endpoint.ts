// POST /slack/events as one handler for the app's HTTP server (web/server.ts): the gate
// (request-guard.ts) reads, verifies and checks the request, then Bolt's receiver
// (http-receiver.ts) answers it. The server only routes to it, so web/ knows nothing of Slack.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { GatedHttpReceiver } from "./http-receiver.js";
import { refuse, slackGate } from "./request-guard.js";

export interface SlackEventsOptions {
  signingSecret: string;
  bodyLimit: number;
  /** The response_url rule (slack/payload.ts): a request naming another host is a 400. */
  responseUrlAllowed?: (url: string) => boolean;
  log: Logger;
  now?: () => number;
}

export function slackEventsHandler(
  receiver: Pick<GatedHttpReceiver, "handle">,
  options: SlackEventsOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { log } = options;
  const gate = {
    signingSecret: options.signingSecret,
    bodyLimit: options.bodyLimit,
    now: options.now ?? Date.now,
    responseUrlAllowed: options.responseUrlAllowed,
  };
  return (req, res) => {
    slackGate(req, gate)
      .then((result) => {
        if (result.pass) return receiver.handle(req, res, result.parsed);
        log.warn({ status: result.status, reason: result.reason }, "refused a Slack request");
        refuse(res, result.status, result.reason);
      })
      .catch((error) => {
        log.error({ err: error }, "Slack request gate failed");
        if (!res.headersSent) refuse(res, 400, "bad request");
      });
  };
}
