// What Slack sees from the receiver that hands gated requests to Bolt: the ack's body as the HTTP
// response, Bolt's status codes for failures, and Slack's retry headers passed on to Bolt.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AuthorizationError, type ReceiverEvent, ReceiverMultipleAckError } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { GatedHttpReceiver } from "../../src/slack/http-receiver.js";
import type { SlackBody } from "../../src/slack/payload.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A receiver in front of a fake Bolt app whose processEvent is `process`; returns a POST helper. */
async function receiverWith(
  process: (event: ReceiverEvent) => Promise<void>,
  parsed: SlackBody = { kind: "event", body: { command: "/ghconnect" } },
) {
  const receiver = new GatedHttpReceiver(createLogger("silent"), 100);
  receiver.init({ processEvent: process } as never);
  server = createServer((req, res) => receiver.handle(req, res, parsed));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  return async (headers: Record<string, string> = {}) => {
    const r = await fetch(url, { method: "POST", headers, body: "x" });
    return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
  };
}

describe("the HTTP receiver Bolt runs on", () => {
  it("sends the ack's message as the JSON response, and an empty ack as an empty 200", async () => {
    const first = { response_type: "ephemeral", text: "Connected to acme" };
    const second = { response_type: "ephemeral", text: "Not connected" };
    let next: object | undefined = first;
    const post = await receiverWith(async ({ ack }) => {
      await (next ? ack(next) : ack());
    });
    expect(await post()).toEqual({ status: 200, type: "application/json", body: JSON.stringify(first) });
    // The same message again (a burst sharing one status view) is sent again, and a different one
    // right after it is its own answer, never the previous one.
    expect((await post()).body).toBe(JSON.stringify(first));
    next = second;
    expect((await post()).body).toBe(JSON.stringify(second));
    next = undefined;
    expect(await post()).toMatchObject({ status: 200, body: "" });
  });

  it("hands Bolt the parsed body and Slack's retry headers", async () => {
    const seen: ReceiverEvent[] = [];
    const post = await receiverWith(
      async (event) => {
        seen.push(event);
        await event.ack();
      },
      { kind: "event", body: { command: "/ghconnect", text: "status" } },
    );
    await post({ "x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout" });
    await post();
    expect(seen.map((e) => [e.body.text, e.retryNum, e.retryReason])).toEqual([
      ["status", 2, "http_timeout"],
      ["status", undefined, undefined],
    ]);
  });

  it("refuses a second ack of one request", async () => {
    let second: unknown;
    const post = await receiverWith(async ({ ack }) => {
      await ack();
      second = await ack().catch((error: unknown) => error);
    });
    expect((await post()).status).toBe(200);
    expect(second).toBeInstanceOf(ReceiverMultipleAckError);
  });

  it("answers 401 when authorization fails, 500 when anything else fails before the ack", async () => {
    let failure: Error = new AuthorizationError("no installation", new Error("x"));
    const post = await receiverWith(async () => {
      throw failure;
    });
    expect((await post()).status).toBe(401);
    failure = new Error("listener bug");
    expect((await post()).status).toBe(500);
  });

  it("answers 404 when nothing acknowledges the request in time (Bolt's rule), and a late ack changes nothing", async () => {
    // The listener acks only once the 404 has been sent (the receiver gives up after 100 ms here).
    let answered = () => {};
    const responded = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let lateAck: Promise<unknown> = Promise.resolve();
    const post = await receiverWith(async ({ ack }) => {
      lateAck = responded.then(() => ack({ text: "too late" }).catch((error: unknown) => error));
      await lateAck;
    });
    expect(await post()).toMatchObject({ status: 404, body: "" });
    answered();
    expect(await lateAck).toBeInstanceOf(ReceiverMultipleAckError);
  });

  it("answers Slack's ssl_check and url_verification without Bolt", async () => {
    const never = async () => {
      throw new Error("Bolt must not see these");
    };
    expect(await (await receiverWith(never, { kind: "ssl_check" }))()).toMatchObject({ status: 200, body: "" });
    await new Promise((resolve) => server?.close(resolve));
    expect(
      await (await receiverWith(never, { kind: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" }))(),
    ).toEqual({
      status: 200,
      type: "application/json",
      body: '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
    });
  });
});
