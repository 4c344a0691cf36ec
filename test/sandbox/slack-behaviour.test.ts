// The Slack stand-in refuses what Slack refuses, so ghconnect cannot pass here and fail there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";

let sandbox: Sandbox;
let token: string;
async function call(method: string, args: Record<string, unknown>, auth = token): Promise<Record<string, unknown>> {
  const response = await fetch(`${sandbox.slack.apiUrl}${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${auth}` },
    body: JSON.stringify(args),
  });
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  token = sandbox.env().SLACK_BOT_TOKEN as string;
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("Slack Web API stand-in", () => {
  it("checks the bot token", async () => {
    expect(await call("auth.test", {}, "xoxb-wrong")).toMatchObject({ ok: false, error: "invalid_auth" });
    expect(await call("auth.test", {})).toMatchObject({ ok: true, user_id: expect.any(String), bot_id: expect.any(String) });
  });

  it("rejects invalid Block Kit as Slack does", async () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: "divider" }));
    expect(await call("chat.postMessage", { channel: "C0ADMINS01", text: "x", blocks: tooMany })).toMatchObject({
      ok: false,
      error: "invalid_blocks",
    });
    const longHeader = [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }];
    expect(await call("chat.postMessage", { channel: "C0ADMINS01", text: "x", blocks: longHeader })).toMatchObject({
      ok: false,
      error: "invalid_blocks",
    });
    const dupes = [
      { type: "actions", elements: [1, 2].map(() => ({ type: "button", action_id: "same", text: { type: "plain_text", text: "b" } })) },
    ];
    expect(await call("chat.postMessage", { channel: "C0ADMINS01", text: "x", blocks: dupes })).toMatchObject({
      ok: false,
      error: "invalid_blocks",
    });
  });

  it("posts, then updates in place", async () => {
    const posted = await call("chat.postMessage", { channel: "C0ADMINS01", text: "first" });
    expect(posted).toMatchObject({ ok: true, ts: expect.any(String) });
    expect(await call("chat.update", { channel: "C0ADMINS01", ts: posted.ts, text: "second" })).toMatchObject({ ok: true });
    const message = sandbox.slack.messages.find((m) => m.ts === posted.ts);
    expect(message).toMatchObject({ text: "second", updates: 1 });
    expect(await call("chat.update", { channel: "C0ADMINS01", ts: "1.2", text: "x" })).toMatchObject({
      ok: false,
      error: "message_not_found",
    });
  });

  it("response_url works five times within 30 minutes, then refuses", async () => {
    const url = sandbox.slack.newResponseUrl("C0ADMINS01", "U0ALICE001");
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ text: `reply ${i}` }),
          })
        ).status,
      ).toBe(200);
    }
    const sixth = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "too many" }),
    });
    expect(sixth.status).toBe(404);
    expect(await sixth.text()).toBe("used_url");
  });
});
