// Our Slack receiver (web/server.ts → slack/events-endpoint.ts: request-guard.ts, then http-receiver.ts) against
// Bolt's own HTTPReceiver: one corpus of requests goes to two Bolt apps with the same listeners,
// one on each receiver, and Slack must get the same status, body and content type from both —
// except where ours is stricter or different on purpose. Those differences (also listed in the
// README, "Our Slack receiver vs Bolt's") are asserted explicitly, per request:
//   1. A timestamp more than 5 minutes in the future is refused (401); Bolt only refuses old ones.
//   2. The body limit is 256 KiB (413), Bolt's is 4 MiB.
//   3. The payload is checked before Bolt sees it: another slash command, a view submission or
//      any other interaction type, an Events API event, a command missing a field ghconnect
//      relies on, or a repeated form field is a 400; Bolt would run it (or let it time out).
//   4. A 400 or 413 carries a JSON body naming the reason ({"error": …}); Bolt's are empty.
//      (A 401 is empty in both: a forger learns nothing.)
//   5. The content type is read as a media type: `; charset=utf-8` and letter case are accepted
//      (a form, and Slack's SSL check); Bolt compares the whole header to one exact string, so it
//      answers 400 to such a form and 401 to such an SSL check.
//   6. X-Slack-Retry-Num must be all digits to count as a retry (Bolt's parseInt takes "1a" as 1).
//   7. GET /slack/events is 405 with a JSON reason (our server owns other routes); Bolt says 404.
//   8. The timestamp must be whole seconds, as Slack sends it; Bolt accepts any number (a fraction
//      signed as sent passes its check).
//   9. With the command lane (slack/command-lane.ts, how app.ts runs `/ghconnect` over HTTP), the
//      command is not passed to an `authorize` function: ghconnect's never refuses (one workspace,
//      one token), and the workspace guard, which runs in the lane, refuses another workspace. A
//      third server, ours with the lane, answers the whole corpus like ours without it, except there.
// Both receivers run with the same signing secret and the same no-ack timeout; timestamps are
// minutes away from the real clock (Bolt reads Date.now()), so no test depends on timing.
import { createHmac } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, type Receiver } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_BODY_LIMIT } from "../../src/app.js";
import { boltLogger, createLogger } from "../../src/log.js";
import { type CommandListener, commandLane } from "../../src/slack/command-lane.js";
import { slackEventsHandler } from "../../src/slack/events-endpoint.js";
import { GatedHttpReceiver } from "../../src/slack/http-receiver.js";
import { createAppServer } from "../../src/web/server.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const NO_ACK_MS = 400;
const FORM = "application/x-www-form-urlencoded";

type Answer = { status: number; type: string | null; body: string };
type Request = { method?: string; headers: Record<string, string>; body?: string };

const nowSeconds = () => Math.floor(Date.now() / 1000);

function signed(contentType: string, body: string, options: { offsetSeconds?: number; extra?: Record<string, string> } = {}): Request {
  const ts = String(nowSeconds() + (options.offsetSeconds ?? 0));
  const signature = `v0=${createHmac("sha256", SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
  return {
    headers: { "content-type": contentType, "x-slack-request-timestamp": ts, "x-slack-signature": signature, ...options.extra },
    body,
  };
}

const command = (fields: Record<string, string> = {}) =>
  new URLSearchParams({
    token: "deprecated",
    team_id: "T0001",
    user_id: "U0ALICE01",
    channel_id: "C0ADMINS1",
    command: "/ghconnect",
    text: "status",
    response_url: "https://hooks.slack.com/commands/T0001/1/abc",
    trigger_id: "13345224609.738474920.8088930838d88f008e0",
    ...fields,
  }).toString();

const interaction = (payload: object) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

const blockAction = {
  type: "block_actions",
  team: { id: "T0001" },
  user: { id: "U0ALICE01" },
  api_app_id: "A0001",
  container: { type: "message", channel_id: "C0ADMINS1" },
  trigger_id: "13345224609.738474920.8088930838d88f008e0",
  response_url: "https://hooks.slack.com/actions/T0001/1/abc",
  actions: [{ action_id: "approve", block_id: "b1", value: "op-1", type: "button", action_ts: "1.2" }],
};

const viewSubmission = {
  type: "view_submission",
  team: { id: "T0001" },
  user: { id: "U0ALICE01" },
  api_app_id: "A0001",
  view: { id: "V0001", callback_id: "confirm", type: "modal", state: { values: {} } },
};

const empty = (status: number): Answer => ({ status, type: null, body: "" });
const json = (value: object): Answer => ({ status: 200, type: "application/json", body: JSON.stringify(value) });
const reason = (status: number, error: string): Answer => ({
  status,
  type: "application/json; charset=utf-8",
  body: JSON.stringify({ error }),
});
const ran = (text: string, retry = "-/-") => json({ response_type: "ephemeral", text: `ran ${text} retry=${retry}` });

/** One request of the corpus: what Bolt answers, and what ours answers where it differs on purpose. */
type Case = { name: string; request: () => Request; bolt: Answer; ours?: Answer; lane?: Answer };

const CORPUS: Case[] = [
  { name: "a valid slash command", request: () => signed(FORM, command()), bolt: ran("status") },
  {
    name: "a retried slash command (X-Slack-Retry-Num/Reason reach the listener)",
    request: () => signed(FORM, command(), { extra: { "x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout" } }),
    bolt: ran("status", "2/http_timeout"),
  },
  {
    name: "a retry number that is not all digits (difference 6)",
    request: () => signed(FORM, command(), { extra: { "x-slack-retry-num": "1a" } }),
    bolt: ran("status", "1/-"),
    ours: ran("status", "-/-"),
  },
  { name: "an unsigned request", request: () => ({ headers: { "content-type": FORM }, body: command() }), bolt: empty(401) },
  {
    name: "a wrong signature",
    request: () => {
      const r = signed(FORM, command());
      return { ...r, headers: { ...r.headers, "x-slack-signature": `v0=${"0".repeat(64)}` } };
    },
    bolt: empty(401),
  },
  {
    name: "a tampered body",
    request: () => {
      const r = signed(FORM, command());
      return { ...r, body: command({ text: "disable acme" }) };
    },
    bolt: empty(401),
  },
  {
    name: "a malformed timestamp",
    request: () => signed(FORM, command(), { extra: { "x-slack-request-timestamp": "soon" } }),
    bolt: empty(401),
  },
  { name: "a stale request (6 minutes old)", request: () => signed(FORM, command(), { offsetSeconds: -360 }), bolt: empty(401) },
  {
    name: "a request 4 minutes old (inside the window)",
    request: () => signed(FORM, command(), { offsetSeconds: -240 }),
    bolt: ran("status"),
  },
  {
    name: "a timestamp with a fraction, signed as sent (difference 8)",
    request: () => {
      const ts = `${nowSeconds()}.5`;
      const body = command();
      const signature = `v0=${createHmac("sha256", SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
      return { headers: { "content-type": FORM, "x-slack-request-timestamp": ts, "x-slack-signature": signature }, body };
    },
    bolt: ran("status"),
    ours: empty(401),
  },
  {
    name: "a future request (6 minutes ahead; difference 1)",
    request: () => signed(FORM, command(), { offsetSeconds: 360 }),
    bolt: ran("status"),
    ours: empty(401),
  },
  {
    name: "Slack's unsigned ssl_check",
    request: () => ({ headers: { "content-type": FORM }, body: "ssl_check=1&token=x" }),
    bolt: empty(200),
  },
  {
    name: "an ssl_check with a command smuggled into it",
    request: () => ({ headers: { "content-type": FORM }, body: `ssl_check=1&${command({ text: "disable acme" })}` }),
    bolt: empty(200),
  },
  {
    name: "an ssl_check with a charset parameter (difference 5)",
    request: () => ({ headers: { "content-type": `${FORM}; charset=utf-8` }, body: "ssl_check=1&token=x" }),
    bolt: empty(401),
    ours: empty(200),
  },
  {
    name: "a signed url_verification",
    request: () => signed("application/json", JSON.stringify({ token: "x", challenge: "3eZbrw1aBm2rZgRNFdxV", type: "url_verification" })),
    bolt: json({ challenge: "3eZbrw1aBm2rZgRNFdxV" }),
  },
  {
    name: "a signed url_verification with a charset parameter",
    request: () => signed("application/json; charset=utf-8", JSON.stringify({ challenge: "c", type: "url_verification" })),
    bolt: json({ challenge: "c" }),
  },
  {
    name: "an unsigned ssl_check sent as JSON",
    request: () => ({ headers: { "content-type": "application/json" }, body: JSON.stringify({ ssl_check: "1" }) }),
    bolt: empty(401),
  },
  {
    name: "an unsigned url_verification",
    request: () => ({
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ challenge: "c", type: "url_verification" }),
    }),
    bolt: empty(401),
  },
  {
    name: "a 300 KiB command (over our limit, under Bolt's; difference 2)",
    request: () => signed(FORM, command({ text: "x".repeat(300 * 1024) })),
    bolt: ran("x".repeat(20)),
    ours: reason(413, "body too large"),
  },
  {
    name: "a body over Bolt's 4 MiB limit (difference 4)",
    request: () => signed(FORM, command({ text: "x".repeat(4 * 1024 * 1024) })),
    bolt: empty(413),
    ours: reason(413, "body too large"),
  },
  {
    name: "a form with `; charset=utf-8` (difference 5)",
    request: () => signed(`${FORM}; charset=utf-8`, command()),
    bolt: empty(400),
    ours: ran("status"),
  },
  {
    name: "a form content type in capitals (difference 5)",
    request: () => signed("Application/X-WWW-Form-Urlencoded", command()),
    bolt: empty(400),
    ours: ran("status"),
  },
  {
    name: "a signed text/plain body (differences 4 and 5)",
    request: () => signed("text/plain", command()),
    bolt: empty(400),
    ours: reason(400, "unsupported content type"),
  },
  {
    name: "a signed JSON body that does not parse (difference 4)",
    request: () => signed("application/json", "{not json"),
    bolt: empty(400),
    ours: reason(400, "body is not valid JSON"),
  },
  {
    name: "a signed Events API event (difference 3)",
    request: () =>
      signed(
        "application/json",
        JSON.stringify({
          type: "event_callback",
          team_id: "T0001",
          api_app_id: "A0001",
          event: { type: "app_mention", user: "U0ALICE01", text: "hi", ts: "1.2", channel: "C0ADMINS1", event_ts: "1.2" },
          event_id: "Ev0001",
          event_time: 1,
        }),
      ),
    bolt: empty(200),
    ours: reason(400, "ghconnect subscribes to no Events API events"),
  },
  {
    name: "an unknown slash command (difference 3)",
    request: () => signed(FORM, command({ command: "/deploy" })),
    bolt: empty(404),
    ours: reason(400, 'command: Invalid input: expected "/ghconnect"'),
  },
  {
    name: "a command without response_url (difference 3)",
    request: () => {
      const body = new URLSearchParams(command());
      body.delete("response_url");
      return signed(FORM, body.toString());
    },
    bolt: ran("status"),
    ours: reason(400, "response_url: Invalid input: expected string, received undefined"),
  },
  {
    name: "a command with a repeated field (difference 3)",
    request: () => signed(FORM, `${command()}&text=again`),
    bolt: ran("status,again"),
    ours: reason(400, "text appears more than once"),
  },
  { name: "a block action", request: () => signed(FORM, interaction(blockAction)), bolt: empty(200) },
  {
    name: "a block action no listener handles (404 after the no-ack timeout)",
    request: () => signed(FORM, interaction({ ...blockAction, actions: [{ action_id: "unknown", type: "button", value: "x" }] })),
    bolt: empty(404),
  },
  {
    name: "a block action without its user (difference 3)",
    request: () => signed(FORM, interaction({ ...blockAction, user: undefined })),
    // Bolt's App fails on it before any listener: a 500.
    bolt: empty(500),
    ours: reason(400, "user: Invalid input: expected object, received undefined"),
  },
  {
    name: "an empty signed form (difference 3)",
    request: () => signed(FORM, ""),
    bolt: empty(404),
    ours: reason(400, 'command: Invalid input: expected "/ghconnect"'),
  },
  {
    name: "a view submission (difference 3)",
    request: () => signed(FORM, interaction(viewSubmission)),
    bolt: json({ response_action: "clear" }),
    ours: reason(400, "ghconnect does not handle view_submission interactions"),
  },
  {
    name: "a listener that never acks (404 after the no-ack timeout)",
    request: () => signed(FORM, command({ text: "silent" })),
    bolt: empty(404),
  },
  {
    name: "a listener that fails before its ack (the error handler logs it, as app.ts's does)",
    request: () => signed(FORM, command({ text: "boom" })),
    bolt: empty(404),
  },
  {
    name: "a listener that fails before its ack (the error handler rethrows)",
    request: () => signed(FORM, command({ text: "boom [rethrow]" })),
    bolt: empty(500),
  },
  {
    name: "a workspace that authorize refuses (the error handler logs it: Bolt acks)",
    request: () => signed(FORM, command({ team_id: "T0DENIED" })),
    bolt: empty(200),
    lane: ran("status"),
  },
  {
    name: "a workspace that authorize refuses (the error handler rethrows)",
    request: () => signed(FORM, command({ team_id: "T0REFUSED" })),
    bolt: empty(401),
    lane: ran("status"),
  },
  {
    name: "a GET (difference 7)",
    request: () => ({ method: "GET", headers: {} }),
    bolt: empty(404),
    ours: reason(405, "Slack requests are POSTed"),
  },
];

const ghconnectListener: CommandListener = async ({ command, ack, context }) => {
  // A repeated field reaches Bolt as an array: String() keeps the listener from failing on it.
  const text = String(command.text).slice(0, 20);
  if (text.startsWith("boom")) throw new Error(`listener bug ${text}`);
  if (text === "silent") return;
  await ack({ response_type: "ephemeral", text: `ran ${text} retry=${context.retryNum ?? "-"}/${context.retryReason ?? "-"}` });
};

// app.ts's handler logs and returns; one that rethrows is what makes Bolt's App reject, which
// a receiver answers 401 (authorization) or 500. Both paths are compared.
const onError = async (error: Error) => {
  if (error.message.includes("[rethrow]")) throw error;
};

/** A Bolt app with the listeners both sides share. */
function boltApp(receiver: Receiver): App {
  const app = new App({
    receiver,
    logger: boltLogger(createLogger("silent")),
    authorize: async ({ teamId }) => {
      if (teamId === "T0DENIED") throw new Error("no installation for this workspace");
      if (teamId === "T0REFUSED") throw new Error("no installation for this workspace [rethrow]");
      return { botToken: "xoxb-test", botId: "B0001", botUserId: "U0BOT0001" };
    },
    convoStore: false,
  });
  app.command("/ghconnect", ghconnectListener);
  app.action("approve", async ({ ack }) => {
    await ack();
  });
  app.view("confirm", async ({ ack }) => {
    await ack({ response_action: "clear" });
  });
  app.error(onError);
  return app;
}

let bolt: App;
let ours: Server;
let withLane: Server;
let boltUrl: string;
let oursUrl: string;
let laneUrl: string;

beforeAll(async () => {
  bolt = boltApp(
    new HTTPReceiver({ signingSecret: SECRET, unhandledRequestTimeoutMillis: NO_ACK_MS, logger: boltLogger(createLogger("silent")) }),
  );
  const boltServer = (await bolt.start({ port: 0, host: "127.0.0.1" })) as Server;
  boltUrl = `http://127.0.0.1:${(boltServer.address() as AddressInfo).port}/slack/events`;

  const log = createLogger("silent");
  const receiver = new GatedHttpReceiver(log, NO_ACK_MS);
  boltApp(receiver);
  ours = createAppServer({
    routes: [],
    slackEvents: slackEventsHandler(receiver, { signingSecret: SECRET, bodyLimit: SLACK_BODY_LIMIT, log }),
    log,
  });
  await new Promise<void>((resolve) => ours.listen(0, "127.0.0.1", resolve));
  oursUrl = `http://127.0.0.1:${(ours.address() as AddressInfo).port}/slack/events`;

  const laneReceiver = new GatedHttpReceiver(log, NO_ACK_MS);
  boltApp(laneReceiver);
  laneReceiver.commandLane = commandLane("/ghconnect", [], ghconnectListener, onError);
  withLane = createAppServer({
    routes: [],
    slackEvents: slackEventsHandler(laneReceiver, { signingSecret: SECRET, bodyLimit: SLACK_BODY_LIMIT, log }),
    log,
  });
  await new Promise<void>((resolve) => withLane.listen(0, "127.0.0.1", resolve));
  laneUrl = `http://127.0.0.1:${(withLane.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await bolt?.stop();
  await new Promise((resolve) => ours?.close(resolve));
  await new Promise((resolve) => withLane?.close(resolve));
});

async function send(url: string, request: Request): Promise<Answer> {
  const r = await fetch(url, { method: request.method ?? "POST", headers: request.headers, body: request.body });
  return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
}

describe("our Slack receiver answers like Bolt's HTTPReceiver", () => {
  it.each(CORPUS.filter((c) => !c.ours).map((c) => [c.name, c] as const))("the same answer: %s", async (_name, c) => {
    const request = c.request();
    const [fromBolt, fromOurs] = await Promise.all([send(boltUrl, request), send(oursUrl, request)]);
    expect(fromBolt).toEqual(c.bolt);
    expect(fromOurs).toEqual(fromBolt);
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))("with the command lane, as without it (but difference 9): %s", async (_name, c) => {
    const request = c.request();
    expect(await send(laneUrl, request)).toEqual(c.lane ?? c.ours ?? c.bolt);
  });

  it.each(CORPUS.filter((c) => c.ours).map((c) => [c.name, c] as const))("a documented difference: %s", async (_name, c) => {
    const request = c.request();
    const [fromBolt, fromOurs] = await Promise.all([send(boltUrl, request), send(oursUrl, request)]);
    expect(fromBolt).toEqual(c.bolt);
    expect(fromOurs).toEqual(c.ours);
  });
});
