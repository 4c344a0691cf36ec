// What Slack (and an attacker pretending to be Slack) gets back from POST /slack/events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditedBeforeMarker, auditSettled, type BotHarness, eventually, messageText, startBot, USERS } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";

describe.each(ENGINES)("Slack requests (%s)", (engine) => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBot(engine);
  });
  afterAll(async () => {
    await bot?.close();
  });

  const auditActions = async () => (await bot.app.store.audit.latest(50)).map((e) => e.action);

  it("a signed `/ghconnect help` gets the usage, privately", async () => {
    const { status, ack } = await bot.driver.command(USERS.mallory, "help");
    expect(status).toBe(200);
    const body = ack as { response_type: string };
    expect(body.response_type).toBe("ephemeral");
    const text = messageText(body);
    for (const command of ["status", "check", "enable ORG", "disable ORG", "features", "search QUERY", "audit", "admins"]) {
      expect(text).toContain(`/ghconnect ${command}`);
    }
    await eventually(async () => (await auditActions()).includes("command.help"));
  });

  it("`/ghconnect` with no argument also answers with the usage", async () => {
    const { ack } = await bot.driver.command(USERS.alice, "");
    expect(messageText(ack as object)).toContain("/ghconnect enable ORG");
  });

  it("unsigned, wrongly signed, stale and future-dated requests get 401 and leave no audit entry", async () => {
    const before = await auditSettled(bot.app);
    const good = bot.driver.commandRequest(USERS.alice, "help");

    const unsigned = await fetch(`${bot.url}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: good.body,
    });
    expect(unsigned.status).toBe(401);

    const forged = { ...good, headers: { ...good.headers, "x-slack-signature": `v0=${"0".repeat(64)}` } };
    expect((await bot.driver.send(forged)).status).toBe(401);

    const tampered = { ...good, body: good.body.replace("text=help", "text=enable+acme") };
    expect((await bot.driver.send(tampered)).status).toBe(401);

    const stale = bot.driver.sign(good, { offsetSeconds: -6 * 60 });
    expect((await bot.driver.send(stale)).status).toBe(401);

    const future = bot.driver.sign(good, { offsetSeconds: 6 * 60 });
    expect((await bot.driver.send(future)).status).toBe(401);

    expect(await auditedBeforeMarker(bot, before)).toEqual([]);
  });

  it("Slack's unsigned SSL check gets an empty 200, and a command smuggled into one is not run", async () => {
    const before = await auditSettled(bot.app);
    const post = (body: string) =>
      fetch(`${bot.url}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    const check = await post("ssl_check=1&token=deprecated-verification-token");
    expect([check.status, await check.text()]).toEqual([200, ""]);
    const smuggled = bot.driver.commandRequest(USERS.alice, "admins add <@U0MALLORY1> dave");
    const ride = await post(`ssl_check=1&${smuggled.body}`);
    expect([ride.status, await ride.text()]).toEqual([200, ""]);
    expect(await auditedBeforeMarker(bot, before)).toEqual([]);
    expect(await bot.app.store.admins.find("U0MALLORY1")).toBeUndefined();
  });

  it("a request signed four minutes ago is still accepted (within Slack's five-minute window)", async () => {
    const request = bot.driver.sign(bot.driver.commandRequest(USERS.alice, "help"), { offsetSeconds: -4 * 60 });
    expect((await bot.driver.send(request)).status).toBe(200);
  });

  it("a retried delivery (X-Slack-Retry-Num) gets the same answer but is not run or recorded twice", async () => {
    const first = await bot.driver.command(USERS.bob, "features now");
    expect(first.status).toBe(200);
    const countAfterFirst = await auditSettled(bot.app);
    const retry = await bot.driver.retry(first.request, 1);
    expect(retry.status).toBe(200);
    // Slack retries because it did not see the first answer: it gets it again.
    expect(retry.ack).toEqual(first.ack);
    const retry2 = await bot.driver.retry(first.request, 2);
    expect(retry2.status).toBe(200);
    expect(await auditedBeforeMarker(bot, countAfterFirst)).toEqual([]);
  });

  it("an oversized body is refused before it is parsed", async () => {
    const request = bot.driver.commandRequest(USERS.alice, "x".repeat(300 * 1024));
    expect((await bot.driver.send(request)).status).toBe(413);
  });

  it("GET /healthz reports the database", async () => {
    const response = await fetch(`${bot.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "ok",
      checks: { database: { status: "ok", engine }, slack: { status: "ok", mode: "http" } },
    });
  });

  it("unknown paths are 404, not a crash", async () => {
    expect((await fetch(`${bot.url}/nope`)).status).toBe(404);
    expect((await fetch(`${bot.url}/slack/events`)).status).toBe(405);
  });
});

describe("healthz when the database is gone", () => {
  it("answers 503 so a load balancer takes the replica out", async () => {
    const bot = await startBot("sqlite");
    try {
      await bot.testDb.db.close();
      const response = await fetch(`${bot.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "degraded", checks: { database: { status: "unreachable" } } });
    } finally {
      await bot.close();
    }
  });
});

describe("what another Slack client may send", () => {
  it("a form body with a charset suffix, and a command without trigger_id (retry still recognised)", async () => {
    const bot = await startBot("sqlite");
    try {
      const base = bot.driver.commandRequest(USERS.alice, "help");
      const charset = { ...base, headers: { ...base.headers, "content-type": "application/x-www-form-urlencoded; charset=utf-8" } };
      const withCharset = await bot.driver.send(bot.driver.sign(charset));
      expect(withCharset.status).toBe(200);
      expect(messageText(withCharset.ack as object)).toContain("/ghconnect enable ORG");

      const body = new URLSearchParams(base.body);
      body.delete("trigger_id");
      body.set("text", "frobnicate");
      const noTrigger = { ...base, body: body.toString() };
      const before = await auditSettled(bot.app);
      expect((await bot.driver.send(bot.driver.sign(noTrigger))).status).toBe(200);
      expect((await bot.driver.retry(noTrigger, 1)).status).toBe(200);
      expect(await auditedBeforeMarker(bot, before)).toEqual(["command.rejected refused"]);
    } finally {
      await bot.close();
    }
  });
});
