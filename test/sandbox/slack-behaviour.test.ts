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

  describe("conversations.history and conversations.replies", () => {
    // A channel of its own, so other tests' posts do not interleave.
    const channel = "C0HISTORY1";
    beforeAll(() => {
      sandbox.slack.options.channels.push({ id: channel, name: "history" }, { id: "G0PRIVATE1", name: "private", isPrivate: true });
    });

    it("lists top-level messages newest first, a page at a time, with metadata only when asked", async () => {
      const posted: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await call("chat.postMessage", {
          channel,
          text: `line ${i}`,
          metadata: { event_type: "ghconnect_audit", event_payload: { seq: i + 1, hash: "a".repeat(64) } },
        });
        posted.push(r.ts as string);
      }
      await call("chat.postMessage", { channel, text: "in a thread", thread_ts: posted[4] });
      const first = await call("conversations.history", { channel, limit: 2, include_all_metadata: true });
      expect(first).toMatchObject({ ok: true, has_more: true });
      const messages = first.messages as Array<Record<string, unknown>>;
      expect(messages.map((m) => m.text)).toEqual(["line 4", "line 3"]);
      expect(messages[0]).toMatchObject({
        type: "message",
        user: sandbox.slack.botUserId,
        bot_id: sandbox.slack.botId,
        reply_count: 1,
        latest_reply: expect.any(String),
        metadata: { event_type: "ghconnect_audit", event_payload: { seq: 5 } },
      });
      const cursor = (first.response_metadata as { next_cursor: string }).next_cursor;
      expect(cursor).not.toBe("");
      const second = await call("conversations.history", { channel, limit: 10, cursor });
      expect((second.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(["line 2", "line 1", "line 0"]);
      expect(second).toMatchObject({ has_more: false, response_metadata: { next_cursor: "" } });
      expect((second.messages as Array<Record<string, unknown>>)[0]?.metadata).toBeUndefined();
      const bounded = await call("conversations.history", { channel, oldest: posted[1], latest: posted[3] });
      expect((bounded.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(["line 2"]);

      const replies = await call("conversations.replies", { channel, ts: posted[4], include_all_metadata: true });
      expect((replies.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(["line 4", "in a thread"]);
      expect(await call("conversations.replies", { channel, ts: "1.000001" })).toMatchObject({ ok: false, error: "thread_not_found" });
    });

    it("refuses as Slack does: unknown channel, missing history scope (naming it), bot not in the channel", async () => {
      expect(await call("conversations.history", { channel: "C0NOWHERE1" })).toMatchObject({ ok: false, error: "channel_not_found" });
      const scopes = sandbox.slack.scopes;
      sandbox.slack.scopes = ["commands", "chat:write", "channels:history"];
      expect(await call("conversations.history", { channel: "G0PRIVATE1" })).toMatchObject({
        ok: false,
        error: "missing_scope",
        needed: "groups:history",
        provided: "commands,chat:write,channels:history",
      });
      sandbox.slack.scopes = scopes;
      sandbox.slack.botNotIn.add(channel);
      expect(await call("conversations.history", { channel })).toMatchObject({ ok: false, error: "not_in_channel" });
      expect(await call("chat.postMessage", { channel, text: "x" })).toMatchObject({ ok: false, error: "not_in_channel" });
      sandbox.slack.botNotIn.delete(channel);
    });

    it("rejects malformed metadata", async () => {
      expect(await call("chat.postMessage", { channel, text: "x", metadata: { event_payload: {} } })).toMatchObject({
        ok: false,
        error: "invalid_metadata_format",
      });
    });
  });
});
