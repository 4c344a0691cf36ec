// Two replicas, a crash in the middle, a database that goes away: every effect happens once,
// nothing is lost, and the audit chain stays unbroken.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/core/audit.js";
import { type SandboxedBot, sandboxBotEnv, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import { SlackDriver } from "../../src/sandbox/slack/driver.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { type Balancer, startBalancer, startForwarder } from "../helpers/network.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

async function auditCounts(world: World): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const entries = [];
  for await (const e of world.bot.bot.store.audit.all()) {
    entries.push(e);
    counts.set(e.action, (counts.get(e.action) ?? 0) + 1);
  }
  expect(verifyChain(entries)).toMatchObject({ ok: true });
  return counts;
}

const buttonValue = (message: { blocks: unknown[] }, actionId: string) =>
  (message.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === actionId)?.value as string;

/**
 * A real `npm start`-style process (src/main.ts), configured only through its environment. It
 * listens on PORT=0 and the port is read from its "ghconnect is listening" log line, so no other
 * process can take the port between choosing and listening.
 */
async function startReplicaProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", ...env, PORT: "0", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = createInterface({ input: child.stdout as Readable });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    for await (const line of lines) {
      const entry = (line.startsWith("{") ? JSON.parse(line) : {}) as { msg?: string; port?: number };
      if (entry.msg === "ghconnect is listening") return { child, url: `http://127.0.0.1:${entry.port}` };
    }
    throw new Error("the replica stopped before it listened");
  } finally {
    clearTimeout(timer);
    // The rest of its log is not read; keep the pipe flowing so the process never blocks on it.
    lines.close();
    child.stdout?.resume();
  }
}

describe.each(ENGINES)("replicas and crashes (%s)", (engine) => {
  let world: World;
  let extra: SandboxedBot | undefined;
  let balancer: Balancer | undefined;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill("SIGKILL");
    await extra?.stop().catch(() => {});
    await balancer?.stop();
    await world?.close();
    extra = undefined;
    balancer = undefined;
    child = undefined;
  });

  it("200 mixed commands and clicks split across two replicas: every effect exactly once, one unbroken chain", async () => {
    world = await startWorld(engine);
    await world.enable();
    await world.command("alice", "feature enable unified-search");
    await world.privateMessage("alice", /Turned on Unified search/);
    extra = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ADMINS: "" } });
    const drivers = [world.bot.driver, extra.driver];
    const before = await auditCounts(world);
    // Commands that may take the slow path come from many people: each person may have only
    // GHCONNECT_USER_LIMIT of them in flight (the cap has its own test, load-shedding.test.ts).
    const person = (i: number) => `U0PEOPLE${String(i).padStart(3, "0")}`;
    const users = SANDBOX_USERS as Record<string, { slack: string }>;
    const plan: Array<[string, string]> = [
      ...Array.from({ length: 60 }, (): [string, string] => [users.mallory!.slack, "help"]),
      ...Array.from({ length: 40 }, (_, i): [string, string] => [person(i), "status"]),
      ...Array.from({ length: 30 }, (_, i): [string, string] => [person(100 + i), "search flaky"]),
      ...Array.from({ length: 30 }, (): [string, string] => [users.bob!.slack, "enable -rf"]),
      ...Array.from({ length: 20 }, (_, i): [string, string] => [person(200 + i), "features"]),
    ];
    const requests = plan.map(([user, text], i) => ({
      driver: drivers[i % 2] as SlackDriver,
      request: drivers[i % 2]!.commandRequest(user, text),
    }));
    // Slack retries a tenth of them, to the other replica.
    const retries = requests
      .filter((_, i) => i % 10 === 0)
      .map((r, i) => ({ driver: drivers[(i + 1) % 2] as SlackDriver, request: r.request, retry: true }));
    await Promise.all([...requests, ...retries].map((r) => ("retry" in r ? r.driver.retry(r.request, 1) : r.driver.send(r.request))));
    // And a disconnect, clicked by both admins on both replicas, each click retried.
    await world.command("alice", "disable acme");
    const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/));
    const value = buttonValue(card, "disable.approve");
    const clicks = ["alice", "bob", "alice", "bob", "alice", "bob", "alice", "bob", "alice", "bob"].map((u, i) =>
      drivers[i % 2]!.clickRequest(users[u]!.slack, card, "disable.approve", value),
    );
    await Promise.all([...clicks.map((c, i) => drivers[i % 2]!.send(c)), ...clicks.map((c, i) => drivers[(i + 1) % 2]!.retry(c, 1))]);
    await world.card(/Disconnected acme/);

    const expected: Record<string, number> = {
      "command.help": 60,
      "command.status": 40,
      "command.search": 30,
      "command.rejected": 30,
      "command.features": 20,
      "disable.done": 1,
      "disable.approved": 1,
    };
    await eventually(async () => {
      const after = await auditCounts(world);
      return Object.entries(expected).every(([action, n]) => (after.get(action) ?? 0) - (before.get(action) ?? 0) === n);
    }, 60_000);
    const after = await auditCounts(world);
    for (const [action, n] of Object.entries(expected))
      expect([action, (after.get(action) ?? 0) - (before.get(action) ?? 0)]).toEqual([action, n]);
    expect((after.get("disable.approve") ?? 0) - (before.get("disable.approve") ?? 0)).toBe(9);
  }, 150_000);

  it("a replica killed (SIGKILL) mid-enable: the other one finishes the flow", async () => {
    world = await startWorld(engine);
    // The balancer's address is the public one; the replicas join it once they listen.
    balancer = await startBalancer([]);
    await world.bot.stop();
    const replica = await startReplicaProcess(sandboxBotEnv(world.sandbox, 0, world.testDb.url, { PUBLIC_URL: balancer.url }));
    child = replica.child;
    extra = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { PUBLIC_URL: balancer.url } });
    balancer.backends.push(replica.url, extra.url);
    const slack = new SlackDriver({
      botUrl: balancer.url,
      signingSecret: extra.config.SLACK_SIGNING_SECRET,
      slack: world.sandbox.slack,
      defaultChannel: SANDBOX_ADMIN_CHANNEL,
    });
    await slack.command(SANDBOX_USERS.alice.slack, "enable acme");
    const card = structuredClone(await world.card(/Accept addendum and continue/));
    const mark = world.mark();
    await slack.send(slack.clickRequest(SANDBOX_USERS.alice.slack, card, "enable.accept", buttonValue(card, "enable.accept")));
    const link = world.linkIn(await world.privateMessage("alice", /Continue on GitHub/, mark), /Continue on GitHub/);
    child.kill("SIGKILL");
    const page = await (await extra.browser("alice")).browse(link);
    expect(page.text).toContain("Connected acme");
    expect((await extra.bot.store.connections.active())?.org).toBe("acme");
    const rows = await sql<{ n: number }>`select count(*) as n from connections`.execute(world.testDb.db.kysely);
    expect(Number(rows.rows[0]?.n)).toBe(1);
  }, 60_000);

  it("a replica killed (SIGKILL) mid-disconnect: the other hands it back on its own schedule, and “delete anyway” deletes once", async () => {
    // Short timings so the surviving replica's sweep finds the dead one's lease expired quickly.
    const timings = { GHCONNECT_SWEEP_INTERVAL: "1s", GHCONNECT_EXECUTION_LEASE: "3s" };
    world = await startWorld(engine, { env: timings });
    await world.enable();
    // A second replica behind the same public address as the first.
    const replica = await startReplicaProcess(sandboxBotEnv(world.sandbox, 0, world.testDb.url, { PUBLIC_URL: world.bot.url, ...timings }));
    child = replica.child;
    const killable = new SlackDriver({
      botUrl: replica.url,
      signingSecret: world.bot.config.SLACK_SIGNING_SECRET,
      slack: world.sandbox.slack,
      defaultChannel: SANDBOX_ADMIN_CHANNEL,
    });
    const since = world.mark();
    await world.command("alice", "disable acme");
    const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/, since));
    await world.privateMessage("alice", /Posted the disconnect request for acme/, since);
    const approvalId = buttonValue(card, "disable.approve");
    const hold = world.sandbox.world.hold({ host: "api", method: "DELETE", pathIncludes: "/app/installations/" });
    await killable.send(killable.clickRequest(SANDBOX_USERS.bob.slack, card, "disable.approve", approvalId));
    await hold.arrived;
    child.kill("SIGKILL");
    const failed = structuredClone(await world.card(/The bot executing this disconnect stopped/));
    await world.click("alice", failed, "disable.force");
    const done = textOf(await world.card(/Disconnected acme/));
    expect(done).toContain(
      "⚠️ Deleted without finishing on GitHub: the bot executing the first attempt stopped before it finished, so the token may not be revoked and the app may still be installed on acme: check and uninstall it on GitHub. Every credential was deleted from this server.",
    );
    const counts = await auditCounts(world);
    expect(counts.get("disable.done")).toBe(1);
    expect(counts.get("disable.approved")).toBe(1);
    expect(counts.get("disable.interrupted")).toBe(1);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    // GitHub never acted on the uninstall the dead replica sent: the app is still installed there.
    expect(world.sandbox.world.installations.at(-1)?.deleted).toBe(false);
  }, 60_000);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("the database going away (PostgreSQL; skipped without TEST_DATABASE_URL)", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
  });

  it("commands say the bot's database is unavailable, healthz is 503, and it recovers without a restart", async () => {
    const forwarder = await startForwarder(5432);
    const base = new URL(process.env.TEST_DATABASE_URL as string);
    world = await startWorld("postgres");
    const viaForwarder = new URL(world.testDb.url);
    viaForwarder.port = String(forwarder.port);
    viaForwarder.hostname = base.hostname;
    await world.bot.stop();
    const bot = await startBotOnSandbox(world.sandbox, { databaseUrl: viaForwarder.toString() });
    try {
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
      await forwarder.down();
      const health = await fetch(`${bot.url}/healthz`);
      expect(health.status).toBe(503);
      const down = world.mark();
      const { status } = await bot.driver.command(SANDBOX_USERS.alice.slack, "status");
      expect(status).toBe(200);
      await world.privateMessage("alice", /The bot's database is unavailable right now, so nothing was done or recorded\./, down);
      await forwarder.up();
      await eventually(async () => (await fetch(`${bot.url}/healthz`)).status === 200, 10_000);
      const since = world.mark();
      await bot.driver.command(SANDBOX_USERS.alice.slack, "status");
      expect(textOf(await world.privateMessage("alice", /Not connected/, since))).toContain("/ghconnect enable ORG");
    } finally {
      await bot.stop();
      await forwarder.down();
    }
  }, 60_000);
});

describe("metrics", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
  });

  it("GET /metrics (its own loopback port) shows commands by outcome, ack latency, outbound calls by status and pending approvals", async () => {
    world = await startWorld("sqlite");
    await world.enable();
    await world.command("mallory", "help");
    await world.command("mallory", "enable -rf");
    await world.command("alice", "disable acme");
    await world.card(/Disconnect acme\?/);
    const text = await eventually(async () => {
      const body = await (await fetch(world!.bot.metricsUrl)).text();
      return /ghconnect_commands_total\{command="disable",outcome="ok"\} 1/.test(body) ? body : undefined;
    });
    expect(text).toMatch(/ghconnect_commands_total\{command="help",outcome="ok"\} 1/);
    expect(text).toMatch(/ghconnect_commands_total\{command="rejected",outcome="rejected"\} 1/);
    expect(text).toMatch(/ghconnect_slack_ack_seconds_count\{kind="http"\} \d+/);
    expect(text).toMatch(/ghconnect_http_requests_total\{host="127\.0\.0\.1:\d+",status="201"\} \d+/);
    expect(text).toMatch(/ghconnect_pending_approvals 1/);
  });
});
