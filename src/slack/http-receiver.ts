// Bolt's receiver in HTTP mode. ghconnect's own server (web/server.ts) owns the port, and its gate
// (request-guard.ts) has already read, verified, parsed and checked each Slack request; this hands
// the parsed body to Bolt (`App.processEvent`) and writes the ack. Bolt's HTTPReceiver would read,
// verify and parse the same body again (its own source notes the double parse), work repeated on
// every ack of a burst of commands. The protocol is Bolt's:
// the ack's body is the HTTP response, an unacknowledged request is answered 404 after 3 s, an
// authorization failure 401, any other failure before the ack 500.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type App, AuthorizationError, type Receiver, type ReceiverEvent, ReceiverMultipleAckError } from "@slack/bolt";
import type { Logger } from "pino";
import type { CommandLane } from "./command-lane.js";
import type { SlackBody } from "./payload.js";

/** Slack waits 3 s for the ack; Bolt's HTTPReceiver gives up 1 ms later. */
export const NO_ACK_TIMEOUT_MS = 3001;

export class GatedHttpReceiver implements Receiver {
  private app?: App;
  /**
   * The last ack body sent and its JSON. Under a burst the ack body is the same object again (one
   * `status` view shared while it is fresh): it is serialized once.
   */
  private last?: { body: object; json: string };
  /** `/ghconnect` without Bolt's dispatch (command-lane.ts); unset, every request goes to Bolt. */
  commandLane?: CommandLane;

  constructor(
    private readonly log: Logger,
    private readonly noAckTimeoutMs = NO_ACK_TIMEOUT_MS,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  /** Nothing to start or stop: the HTTP server is ghconnect's own. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Answers a Slack request that passed the gate. */
  handle(req: IncomingMessage, res: ServerResponse, parsed: SlackBody): void {
    if (parsed.kind === "ssl_check") {
      res.writeHead(200);
      res.end();
      return;
    }
    if (parsed.kind === "url_verification") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ challenge: parsed.challenge }));
      return;
    }
    const app = this.app;
    if (!app) throw new Error("the Slack receiver is not attached to a Bolt app");
    let acked = false;
    const noAck = setTimeout(() => {
      if (acked) return;
      acked = true;
      this.log.error("a Slack request was not acknowledged within 3 seconds; answered 404");
      if (!res.headersSent) {
        res.writeHead(404);
        res.end();
      }
    }, this.noAckTimeoutMs);
    // biome-ignore lint/suspicious/noExplicitAny: Bolt's AckFn takes any response body.
    const ack = async (response?: any) => {
      if (acked) throw new ReceiverMultipleAckError();
      acked = true;
      clearTimeout(noAck);
      this.respond(res, response);
    };
    const retry = req.headers["x-slack-retry-num"];
    const reason = req.headers["x-slack-retry-reason"];
    const event: ReceiverEvent = {
      body: parsed.body,
      ack,
      retryNum: typeof retry === "string" && /^\d+$/.test(retry) ? Number(retry) : undefined,
      retryReason: typeof reason === "string" ? reason : undefined,
    };
    const lane = this.commandLane?.handles(parsed.body) ? this.commandLane : undefined;
    (lane ? lane.run(parsed.body, ack, { retryNum: event.retryNum, retryReason: event.retryReason }) : app.processEvent(event)).catch(
      (error: unknown) => {
        if (res.headersSent) {
          this.log.error({ err: error }, "a Slack listener failed after its ack");
          return;
        }
        acked = true;
        clearTimeout(noAck);
        const unauthorized = error instanceof AuthorizationError;
        if (!unauthorized) this.log.error({ err: error }, "a Slack request failed before its ack");
        res.writeHead(unauthorized ? 401 : 500);
        res.end();
      },
    );
  }

  private respond(res: ServerResponse, body: unknown): void {
    if (body === undefined || body === null || body === "") {
      res.writeHead(200);
      res.end();
    } else if (typeof body === "string") {
      res.writeHead(200);
      res.end(body);
    } else {
      if (this.last?.body !== body) this.last = { body, json: JSON.stringify(body) };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(this.last.json);
    }
  }
}
