// The periodic duties the running app schedules on its own, as an operator sees them: Slack's
// delivery ids do not pile up forever, and a disconnect whose bot is alive but waiting on a slow
// GitHub keeps its lease. Nothing here calls a sweep: the app's schedule does the work.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { startBotOnSandbox } from "../../src/sandbox/bot.js";
import type { Hold } from "../../src/sandbox/github/world.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

async function auditCount(world: World, action: string): Promise<number> {
  let n = 0;
  for await (const e of world.bot.bot.store.audit.all()) if (e.action === action) n++;
  return n;
}

describe.each(ENGINES)("periodic duties of the running app (%s)", (engine) => {
  let world: World | undefined;
  let hold: Hold | undefined;
  afterEach(async () => {
    hold?.release();
    await world?.close();
    world = undefined;
  });

  it("Slack delivery ids older than a day are pruned, a recent one is kept and still stops Slack's retry", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_SWEEP_INTERVAL: "1s" } });
    const { driver } = world.bot;
    const deliveries = async () =>
      (
        await sql<{ delivery_id: string }>`select delivery_id from slack_events order by received_at`.execute(world!.testDb.db.kysely)
      ).rows.map((r) => r.delivery_id);
    await world.command("mallory", "help");
    const old = await eventually(async () => (await deliveries())[0]);
    // A day and an hour later, another command arrives, and Slack retries it.
    world.sandbox.world.advance(25 * 60 * 60_000);
    const request = driver.commandRequest(SANDBOX_USERS.mallory.slack, "help");
    await driver.send(request);
    const kept = await eventually(async () => {
      const now = await deliveries();
      return !now.includes(old) && now.length === 1 ? now : undefined;
    });
    await eventually(async () => (await auditCount(world!, "command.help")) === 2);
    // Slack retries the recent one, then a new command follows: the retry is answered but not
    // recorded again, so the new command's entry is the only one added.
    expect((await driver.retry(request, 1)).status).toBe(200);
    await world.command("mallory", "help");
    await eventually(async () => (await deliveries()).length === 2);
    await eventually(async () => (await auditCount(world!, "command.help")) === 3);
    expect((await deliveries())[0]).toBe(kept[0]);
    expect(await auditCount(world, "command.help")).toBe(3);
  });

  it("two replicas sweeping at the same moment expire a disconnect request once: one audit entry, one card update", async () => {
    world = await startWorld(engine);
    await world.enable();
    const second = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url });
    try {
      const since = world.mark();
      await world.command("alice", "disable acme");
      const request = await world.card(/Disconnect acme\?[\s\S]*Approving will/, since);
      // Recorded with its card (the requester's confirmation follows that), so the sweep can update it.
      await world.privateMessage("alice", /Posted the disconnect request for acme/, since);
      const updatesBefore = request.updates;
      world.sandbox.world.advance(16 * 60_000);
      // Both replicas' sweeps at once, as their timers may fire together.
      await Promise.all([world.bot.bot.disable.expireStale(), second.bot.disable.expireStale()]);
      const expired = await world.card(/Expired at .* without approval/, since);
      expect(await auditCount(world, "disable.expired")).toBe(1);
      expect(expired.updates).toBe(updatesBefore + 1);
      const thread = world.sandbox.slack.messages.filter((m) => m.threadTs === expired.ts && /Expired without approval/.test(textOf(m)));
      expect(thread).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it("a disconnect whose bot is alive keeps its lease while GitHub is slower than the lease", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_SWEEP_INTERVAL: "1s", GHCONNECT_EXECUTION_LEASE: "3s" } });
    await world.enable();
    const since = world.mark();
    await world.command("alice", "disable acme");
    const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/, since));
    await world.privateMessage("alice", /Posted the disconnect request for acme/, since);
    hold = world.sandbox.world.hold({ host: "api", method: "DELETE", pathIncludes: "/app/installations/" });
    await world.click("bob", card, "disable.approve");
    await hold.arrived;
    // Wait until, with GitHub still holding the request, the executing bot's heartbeat has carried
    // the lease past five seconds (a lease and two sweeps): without it, a sweep would have handed
    // the disconnect back by now. (GitHub calls time out after 10 s, so this is well before.)
    const leaseOf = async () =>
      (
        await sql<{ status: string; updated_at: string; decided_at: string }>`select status, updated_at, decided_at from approvals`.execute(
          world!.testDb.db.kysely,
        )
      ).rows[0];
    await eventually(async () => {
      const row = await leaseOf();
      return row?.status === "executing" && Date.parse(row.updated_at) - Date.parse(row.decided_at) > 5_000;
    }, 30_000);
    hold.release();
    const done = await world.card(/Disconnected acme/);
    expect(textOf(done)).toContain("Installation token revoked; app uninstalled; every credential deleted from this server.");
    expect(await auditCount(world, "disable.interrupted")).toBe(0);
    expect(await auditCount(world, "disable.done")).toBe(1);
  }, 60_000);
});
