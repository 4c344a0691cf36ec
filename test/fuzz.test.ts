// Thousands of random inputs: the command parser never throws and always says something; the
// Slack endpoint answers every signed random payload with 200, 400 or 413 — never a 500 — and
// changes nothing it should not.
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCommand } from "../src/core/commands.js";
import { type BotHarness, startBot, USERS } from "./helpers/bot.js";

describe("the command parser under random input", () => {
  it("never throws, and every result is a command or a sentence", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: "binary", maxLength: 400 }),
          fc
            .array(
              fc.constantFrom(
                "enable",
                "disable",
                "audit",
                "admins",
                "feature",
                "<@U1|x>",
                "-",
                '"',
                "acme",
                "add",
                "remove",
                " ",
                "\n",
                "search",
                "verify",
                "50",
                "51",
              ),
              { maxLength: 8 },
            )
            .map((a) => a.join(" ")),
        ),
        (text) => {
          const result = parseCommand(text);
          if (result.ok) expect(typeof result.command.name).toBe("string");
          else expect(result.error.length).toBeGreaterThan(10);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe("POST /slack/events under random signed payloads", () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBot("sqlite");
  });
  afterAll(async () => {
    await bot?.close();
  });

  const send = async (body: string, contentType = "application/x-www-form-urlencoded") => {
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac("sha256", bot.config.SLACK_SIGNING_SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
    const r = await fetch(`${bot.url}/slack/events`, {
      method: "POST",
      headers: { "content-type": contentType, "x-slack-request-timestamp": String(ts), "x-slack-signature": signature },
      body,
    });
    await r.text();
    return r.status;
  };

  const jsonish = fc.jsonValue({ maxDepth: 3 });
  const payloads = fc.oneof(
    jsonish.map((v) => `payload=${encodeURIComponent(JSON.stringify(v))}`),
    fc
      .record({
        type: fc.constantFrom("block_actions", "view_submission", "shortcut", 42),
        user: fc.oneof(jsonish, fc.record({ id: fc.string() })),
        actions: fc.oneof(jsonish, fc.array(fc.record({ action_id: fc.string(), value: fc.string() }), { maxLength: 3 })),
        response_url: fc.oneof(fc.webUrl(), fc.string()),
      })
      .map((v) => `payload=${encodeURIComponent(JSON.stringify(v))}`),
    fc
      .dictionary(
        fc.constantFrom("command", "text", "user_id", "channel_id", "response_url", "trigger_id", "payload"),
        fc.string({ maxLength: 50 }),
      )
      .map((d) => new URLSearchParams(d).toString()),
    fc.string({ maxLength: 300 }),
  );

  it("answers 200, 400 or 413 — never 500 — and audits no state change", async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(payloads, async (body) => {
        const status = await send(body);
        statuses.add(status);
        expect([200, 400, 413]).toContain(status);
      }),
      { numRuns: 1500 },
    );
    expect(statuses.has(400)).toBe(true);
    const actions = (await bot.app.store.audit.latest(50)).map((e) => e.action);
    expect(actions.filter((a) => /^(enable|disable|feature)\.|^admins\.(added|removed)/.test(a))).toEqual([]);
  }, 120_000);

  it("JSON bodies that are not a url_verification are refused with 400", async () => {
    expect(await send(JSON.stringify({ type: "event_callback", event: {} }), "application/json")).toBe(400);
    expect(await send("{not json", "application/json")).toBe(400);
    expect(await send(JSON.stringify({ type: "url_verification", challenge: "abc" }), "application/json")).toBe(200);
  });

  it("a well-formed command still works after all that", async () => {
    const { status, ack } = await bot.driver.command(USERS.alice, "help");
    expect(status).toBe(200);
    expect(JSON.stringify(ack)).toContain("/ghconnect enable ORG");
  });
});

describe("requests no listener would answer", () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBot("sqlite");
  });
  afterAll(async () => {
    await bot?.close();
  });

  // Left to Bolt, neither would be acknowledged: Slack would get a 404 after the 3 s ack timeout.
  it("a signed slash command other than /ghconnect is a 400, and a click on an unknown button a 200, not an unacknowledged 404", async () => {
    const other = bot.driver.commandRequest(USERS.alice, "help");
    const renamed = bot.driver.sign({ ...other, body: other.body.replace("command=%2Fghconnect", "command=%2Fdeploy") });
    expect((await bot.driver.send(renamed)).status).toBe(400);
    const click = bot.driver.clickRequest(
      USERS.alice,
      { channel: "C0ADMINS01", ts: "1.1", text: "old", blocks: [] },
      "some.old.button",
      "x",
    );
    expect((await bot.driver.send(click)).status).toBe(200);
  });
});
