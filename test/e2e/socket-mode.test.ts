// Socket Mode (SLACK_APP_TOKEN set): the bot opens a WebSocket to Slack instead of serving
// /slack/events, and commands and clicks arrive in envelopes it acknowledges over the socket.
// The same product must come out: answers in the ack, replies after it, the whole enable flow,
// one audit entry per command.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBotOnSandbox } from "../../src/sandbox/bot.js";
import { SANDBOX_USERS, startSandbox } from "../../src/sandbox/index.js";
import { eventually, messageText } from "../helpers/bot.js";
import { createTestDb } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe("Socket Mode", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld("sqlite", { socketMode: true });
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("connects with the app-level token at start-up, and serves no /slack/events", async () => {
    expect(world.sandbox.slack.socketMode.connections).toBe(1);
    const opens = world.sandbox.slack.calls.filter((c) => c.method === "apps.connections.open");
    expect(opens).toHaveLength(1); // one socket, opened once
    expect(opens[0]?.ok).toBe(true);
    const overHttp = await world.bot.driver.command(SANDBOX_USERS.alice.slack, "help");
    expect(overHttp.status).toBe(404);
  });

  it("answers help and status in the ack, and audits each once", async () => {
    const help = await world.command("alice", "help");
    expect(messageText(help.ack as object)).toContain("/ghconnect enable ORG");
    const status = await world.command("alice", "status");
    expect(messageText(status.ack as object)).toContain("Not connected");
    const actions = await eventually(async () => {
      const entries = (await world.bot.bot.store.audit.latest(20)).map((e) => e.action);
      return entries.includes("command.status") && entries.includes("command.help") ? entries : undefined;
    });
    expect(actions.filter((a) => a === "command.help")).toHaveLength(1);
    expect(actions.filter((a) => a === "command.status")).toHaveLength(1);
  });

  it("runs the whole enable: the command and the addendum click arrive over the socket", async () => {
    const page = await world.enable();
    expect(page.status).toBe(200);
    expect(page.text).toContain("Connected acme");
    expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
    const card = await world.card(/Connected/);
    expect(textOf(card)).toContain("acme");
    // GHES not yet looked at since the connect: status asks it (once) and answers in the ack itself.
    const versionCalls = () => world.sandbox.routers.ghes.received.filter((r) => /\/meta$/.test(r.path)).length;
    const before = versionCalls();
    const status = await world.command("alice", "status");
    expect(messageText(status.ack as object)).toContain("Connected to acme");
    expect(messageText(status.ack as object)).toContain("github.com `octocat`");
    expect(versionCalls()).toBe(before + 1);
    // Fresh now: the next one is answered in the ack without asking GHES again.
    const again = await world.command("alice", "status");
    expect(messageText(again.ack as object)).toContain("Connected to acme");
    expect(versionCalls()).toBe(before + 1);
  });

  it("a command answered after the ack gets an empty ack over the socket and its reply through response_url", async () => {
    const since = world.mark();
    const { ack } = await world.command("alice", "admins");
    expect(ack).toEqual({});
    const reply = await world.privateMessage("alice", /Admins \(/, since);
    expect(reply.via).toBe("response_url");
    expect(textOf(reply)).toContain(`<@${SANDBOX_USERS.alice.slack}> — GHES \`alice\``);
  });
});

describe("Socket Mode with a token Slack refuses", () => {
  it("does not start, and names SLACK_APP_TOKEN and Slack's reason", async () => {
    const sandbox = await startSandbox();
    const testDb = await createTestDb("sqlite");
    try {
      const start = (token: string) =>
        startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, env: { SLACK_APP_TOKEN: token } });
      await expect(start("xapp-1-A0GHCONNECT-not-this-apps")).rejects.toThrow(
        /SLACK_APP_TOKEN was refused by Slack when opening Socket Mode \(invalid_auth\)/,
      );
      // A bot token where the app-level token belongs never reaches Slack: the configuration says so.
      await expect(start("xoxb-a-bot-token")).rejects.toThrow(/SLACK_APP_TOKEN is malformed/);
      expect(sandbox.slack.socketMode.connections).toBe(0);
    } finally {
      await sandbox.stop();
      await testDb.cleanup();
    }
  });
});

describe("Socket Mode health", () => {
  const healthOf = async (url: string) => {
    const response = await fetch(`${url}/healthz`);
    const body = (await response.json()) as { status: string; checks: { slack: { status: string; mode: string; detail: string } } };
    return { code: response.status, body };
  };

  it("a socket that never connects: the bot still starts, healthz is degraded naming Socket Mode, and turns ok when it connects", async () => {
    const sandbox = await startSandbox();
    const testDb = await createTestDb("sqlite");
    sandbox.slack.socketMode.refuseSockets = true;
    let bot: Awaited<ReturnType<typeof startBotOnSandbox>> | undefined;
    try {
      bot = await startBotOnSandbox(sandbox, {
        databaseUrl: testDb.url,
        db: testDb.db,
        env: { SLACK_APP_TOKEN: sandbox.slack.socketMode.appToken },
        app: { socketConnectWaitMs: 200, slackRecheckMs: 250 },
      });
      const down = await healthOf(bot.url);
      expect(down.code).toBe(503);
      expect(down.body).toMatchObject({ status: "degraded", checks: { slack: { status: "socket_down", mode: "socket" } } });
      expect(down.body.checks.slack.detail).toBe("Socket Mode not connected after 0.2 s; still trying");

      // The firewall opens: Bolt's client reconnects on its own, and healthz follows.
      sandbox.slack.socketMode.refuseSockets = false;
      const url = bot.url;
      await eventually(async () => (await healthOf(url)).code === 200, 25_000);
      expect(sandbox.slack.socketMode.connections).toBe(1);
      expect(messageText((await bot.driver.commandOverSocket(SANDBOX_USERS.alice.slack, "help")).ack as object)).toContain(
        "/ghconnect enable ORG",
      );
    } finally {
      await bot?.stop();
      await sandbox.stop();
      await testDb.cleanup();
    }
  }, 40_000);

  it("a connection that drops: healthz is degraded until the socket is back", async () => {
    const sandbox = await startSandbox();
    const testDb = await createTestDb("sqlite");
    let bot: Awaited<ReturnType<typeof startBotOnSandbox>> | undefined;
    try {
      bot = await startBotOnSandbox(sandbox, {
        databaseUrl: testDb.url,
        db: testDb.db,
        env: { SLACK_APP_TOKEN: sandbox.slack.socketMode.appToken },
        app: { slackRecheckMs: 250 },
      });
      expect((await healthOf(bot.url)).code).toBe(200);
      sandbox.slack.socketMode.refuseSockets = true;
      sandbox.slack.socketMode.dropAll();
      const url = bot.url;
      const down = await eventually(async () => {
        const h = await healthOf(url);
        return h.code === 503 ? h : undefined;
      });
      expect(down.body.checks.slack).toMatchObject({
        status: "socket_down",
        detail: expect.stringMatching(/^Socket Mode lost its connection to Slack/),
      });
      sandbox.slack.socketMode.refuseSockets = false;
      await eventually(async () => (await healthOf(url)).code === 200, 25_000);
    } finally {
      await bot?.stop();
      await sandbox.stop();
      await testDb.cleanup();
    }
  }, 40_000);
});
