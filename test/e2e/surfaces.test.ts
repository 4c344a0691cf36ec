// The bot's smaller surfaces (SPEC §7): /metrics only on its own loopback listener, and signed
// requests from another Slack workspace or app refused, told so, and audited.
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import type { AuditEntry } from "../../src/core/audit.js";
import { createLogger } from "../../src/log.js";
import { freePort, type SandboxedBot, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS, type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { SlackDriver } from "../../src/sandbox/slack/driver.js";
import { eventually, messageText } from "../helpers/bot.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";
import { startWorld, type World } from "../helpers/world.js";

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

describe("the metrics listener", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("GET /metrics is 404 on the public port, and Prometheus text on METRICS_PORT, bound to 127.0.0.1", async () => {
    const { log, lines } = logSink();
    world = await startWorld("sqlite", { log });
    await world.command("mallory", "help");

    const publicAnswer = await fetch(`${world.bot.url}/metrics`);
    expect(publicAnswer.status).toBe(404);
    expect(await publicAnswer.text()).not.toContain("ghconnect_");

    const metricsPort = world.bot.bot.metricsPort() as number;
    expect(metricsPort).not.toBe(world.bot.port);
    const body = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      return /ghconnect_commands_total\{command="help",outcome="ok"\} 1/.test(text) ? text : undefined;
    });
    expect(body).toContain("# TYPE ghconnect_commands_total counter");
    // Only /metrics is served there: no Slack endpoint, no pages.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/slack/events`, { method: "POST" })).status).toBe(404);
    // What the operator reads at start-up: the loopback address it is bound to.
    const listening = lines.find((l) => l.msg === "ghconnect is listening");
    expect(listening).toMatchObject({ port: world.bot.port, metrics: `127.0.0.1:${metricsPort}` });
  });

  it("a METRICS_PORT already in use stops start-up with a ConfigError naming it", async () => {
    const sandbox = await startSandbox();
    const testDb = await createTestDb("sqlite");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const busyPort = (taken.address() as { port: number }).port;
    try {
      const port = await freePort();
      const started = startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, port, env: { METRICS_PORT: String(busyPort) } });
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(
        `METRICS_PORT could not be opened on 127.0.0.1:${busyPort} (EADDRINUSE): choose a free port, or off`,
      );
      // The public port was given back too.
      await new Promise<void>((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen(port, () => probe.close(() => resolve()));
      });
    } finally {
      taken.close();
      await sandbox.stop();
      await testDb.cleanup();
    }
  });
});

const FOREIGN =
  "This ghconnect serves another Slack workspace or app, so it did not act on this request; nothing was done. If it is meant to serve this workspace, its operator should check SLACK_TEAM_ID and SLACK_APP_ID (the refusal is in its audit trail).";

/** A Slack driver for the world's bot, speaking as another workspace or app. */
function driverFrom(world: World, from: { teamId?: string; appId?: string }): SlackDriver {
  return new SlackDriver({
    botUrl: world.bot.url,
    signingSecret: world.bot.config.SLACK_SIGNING_SECRET,
    slack: world.sandbox.slack,
    defaultChannel: SANDBOX_ADMIN_CHANNEL,
    ...from,
  });
}

async function entriesOf(bot: SandboxedBot, action: string, expected: number): Promise<AuditEntry[]> {
  return eventually(async () => {
    const entries = (await bot.bot.store.audit.latest(100)).filter((e) => e.action === action);
    return entries.length >= expected ? entries : undefined;
  });
}

describe.each(ENGINES)("requests from another Slack workspace or app (%s)", (engine) => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  const alice = SANDBOX_USERS.alice.slack;

  it("a correctly signed command from another workspace is refused with a clear message, runs nothing, and is audited once", async () => {
    world = await startWorld(engine, { env: { SLACK_APP_ID: "A0GHCONNECT" } });
    const foreign = driverFrom(world, { teamId: "T0FOREIGN" });
    const first = await foreign.command(alice, "admins add <@U0MALLORY1> dave");
    expect(first.status).toBe(200);
    expect(messageText(first.ack as object)).toContain(FOREIGN);
    // Slack's retry of it is answered again, and not audited twice.
    expect(messageText((await foreign.retry(first.request, 1)).ack as object)).toContain(FOREIGN);

    const [entry, ...more] = await entriesOf(world.bot, "slack.foreign_request", 1);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor_slack: alice,
      target: "T0FOREIGN",
      outcome: "refused",
      details: { reason: "another workspace", kind: "command", team: "T0FOREIGN", app: "A0GHCONNECT", enterprise: null },
    });
    // Where it came from, never what it said.
    expect(JSON.stringify(entry)).not.toContain("dave");
    expect(await world.bot.bot.store.admins.find("U0MALLORY1")).toBeUndefined();
    expect((await world.bot.bot.store.audit.latest(100)).filter((e) => /^(admins\.(added|pending)|command\.)/.test(e.action))).toEqual([]);

    // The bot's own workspace and app are served as before.
    expect(messageText((await world.command("alice", "help")).ack as object)).toContain("/ghconnect enable ORG");
  });

  it("a command from this workspace but another app (SLACK_APP_ID) is refused and audited", async () => {
    world = await startWorld(engine, { env: { SLACK_APP_ID: "A0GHCONNECT" } });
    const otherApp = driverFrom(world, { appId: "A0IMPOSTER" });
    const r = await otherApp.command(alice, "status");
    expect(messageText(r.ack as object)).toContain(FOREIGN);
    const [entry] = await entriesOf(world.bot, "slack.foreign_request", 1);
    expect(entry).toMatchObject({ details: { reason: "another app", team: "T0SANDBOX", app: "A0IMPOSTER" } });
  });

  it("a click from another workspace changes nothing, gets the message privately, and is audited", async () => {
    world = await startWorld(engine);
    const foreign = driverFrom(world, { teamId: "T0FOREIGN" });
    const since = world.mark();
    const card = {
      channel: SANDBOX_ADMIN_CHANNEL,
      ts: "1700000000.000100",
      text: "Disconnect acme?",
      blocks: [{ type: "actions", elements: [{ type: "button", action_id: "disable.approve", value: "x" }] }],
    };
    const click = await foreign.send(foreign.clickRequest(alice, card, "disable.approve", "x"));
    expect([click.status, click.ack]).toEqual([200, undefined]);
    const reply = await world.privateMessage("alice", /serves another Slack workspace or app/, since);
    expect(reply.via).toBe("response_url");
    const [entry] = await entriesOf(world.bot, "slack.foreign_request", 1);
    expect(entry).toMatchObject({ actor_slack: alice, details: { reason: "another workspace", kind: "block_actions", team: "T0FOREIGN" } });
  });

  it("over Socket Mode, a command from another workspace is refused and audited the same way", async () => {
    world = await startWorld(engine, { socketMode: true });
    const foreign = driverFrom(world, { teamId: "T0FOREIGN" });
    const r = await foreign.commandOverSocket(alice, "disable acme");
    expect(messageText(r.ack as object)).toContain(FOREIGN);
    const [entry] = await entriesOf(world.bot, "slack.foreign_request", 1);
    expect(entry).toMatchObject({ details: { reason: "another workspace", kind: "command", team: "T0FOREIGN" } });
    expect((await world.bot.bot.store.audit.latest(100)).filter((e) => e.action.startsWith("disable."))).toEqual([]);
  });
});

describe("before the bot knows its workspace", () => {
  let sandbox: Sandbox | undefined;
  let testDb: TestDb | undefined;
  let bot: SandboxedBot | undefined;
  let answerAuthTest: (() => void) | undefined;
  afterEach(async () => {
    answerAuthTest?.();
    await bot?.stop();
    await sandbox?.stop();
    await testDb?.cleanup();
  });

  async function botWithSlowAuthTest(env: Record<string, string> = {}) {
    sandbox = await startSandbox();
    testDb = await createTestDb("sqlite");
    sandbox.slack.slowMethods.set(
      "auth.test",
      new Promise<void>((resolve) => {
        answerAuthTest = resolve;
      }),
    );
    bot = await startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, env });
    return bot;
  }

  it("while auth.test has not answered and SLACK_TEAM_ID is unset, a command is refused as unverified and audited; then served", async () => {
    const b = await botWithSlowAuthTest();
    const refused = await b.driver.command(SANDBOX_USERS.alice.slack, "help");
    expect(messageText(refused.ack as object)).toContain(
      "ghconnect has not yet confirmed which Slack workspace it serves (Slack has not answered its auth.test), so it did not act on this request; nothing was done.",
    );
    const [entry] = await entriesOf(b, "slack.unverified_request", 1);
    expect(entry).toMatchObject({ outcome: "refused", details: { reason: "workspace not confirmed yet", team: "T0SANDBOX" } });
    answerAuthTest?.();
    const served = await b.driver.command(SANDBOX_USERS.alice.slack, "help");
    expect(messageText(served.ack as object)).toContain("/ghconnect enable ORG");
  });

  it("with SLACK_TEAM_ID set, commands are served without waiting for auth.test, and another team is still refused", async () => {
    const b = await botWithSlowAuthTest({ SLACK_TEAM_ID: "T0SANDBOX" });
    const served = await b.driver.command(SANDBOX_USERS.alice.slack, "help");
    expect(messageText(served.ack as object)).toContain("/ghconnect enable ORG");
    const foreign = new SlackDriver({
      botUrl: b.url,
      signingSecret: b.config.SLACK_SIGNING_SECRET,
      slack: (sandbox as Sandbox).slack,
      defaultChannel: SANDBOX_ADMIN_CHANNEL,
      teamId: "T0FOREIGN",
    });
    expect(messageText((await foreign.command(SANDBOX_USERS.alice.slack, "help")).ack as object)).toContain(FOREIGN);
  });
});

describe.each(ENGINES)("response_urls that are not Slack's (%s)", (engine) => {
  let world: World | undefined;
  let attacker: Awaited<ReturnType<typeof attackerHost>> | undefined;
  afterEach(async () => {
    await attacker?.close();
    attacker = undefined;
    await world?.close();
    world = undefined;
  });

  /** Replaces a signed request's response_url (a click's inside its JSON payload) and signs it again. */
  function withResponseUrl(driver: SlackDriver, request: ReturnType<SlackDriver["commandRequest"]>, url: string) {
    const form = new URLSearchParams(request.body);
    const payload = form.get("payload");
    if (payload) form.set("payload", JSON.stringify({ ...JSON.parse(payload), response_url: url }));
    else form.set("response_url", url);
    return driver.sign({ ...request, body: form.toString() });
  }

  it("a signed click whose response_url names another host is a 400 and the bot sends that host nothing; Slack's own response_url is answered", async () => {
    world = await startWorld(engine);
    attacker = await attackerHost();
    const driver = world.bot.driver;
    const card = { channel: SANDBOX_ADMIN_CHANNEL, ts: "1.000001", blocks: [], text: "an old card" };
    // A correctly signed click (as Slack would sign it), whose response_url names the attacker's host.
    const forged = driver.clickRequest(SANDBOX_USERS.mallory.slack, card, "enable.cancel", "no-such-operation");
    const refused = await driver.send(withResponseUrl(driver, forged, `${attacker.url}/hooks/steal`));
    expect(refused.status).toBe(400);
    expect(refused.ack).toEqual({ error: "response_url is not on Slack's hooks host" });

    // The same click with Slack's own response_url is answered through it.
    const since = world.mark();
    const genuine = driver.clickRequest(SANDBOX_USERS.mallory.slack, card, "enable.cancel", "no-such-operation-2");
    expect((await driver.send(genuine)).status).toBe(200);
    await world.privateMessage("mallory", /no longer exists/, since);
    expect(attacker.hits).toEqual([]);
  });

  it("a signed command whose response_url names another host is a 400: nothing is run or audited, and that host gets nothing", async () => {
    world = await startWorld(engine);
    attacker = await attackerHost();
    const driver = world.bot.driver;
    const forged = withResponseUrl(driver, driver.commandRequest(SANDBOX_USERS.alice.slack, "audit verify"), `${attacker.url}/hooks/steal`);
    const refused = await driver.send(forged);
    expect([refused.status, refused.ack]).toEqual([400, { error: "response_url is not on Slack's hooks host" }]);
    // The same command with Slack's response_url runs, and its entry is the only `audit.verify` one.
    await world.command("alice", "audit verify");
    expect(await entriesOf(world.bot, "audit.verify", 1)).toHaveLength(1);
    expect(attacker.hits).toEqual([]);
  });
});

/** A host the attacker controls: it records every request the bot sends it. */
async function attackerHost(): Promise<{ url: string; hits: Array<{ method: string; path: string }>; close(): Promise<void> }> {
  const hits: Array<{ method: string; path: string }> = [];
  const server = createHttpServer((req, res) => {
    hits.push({ method: req.method ?? "", path: req.url ?? "" });
    req.resume();
    res.writeHead(200);
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
