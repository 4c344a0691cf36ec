// `/ghconnect disable acme` and its confirmation button, as admins and the auditor see it: the
// wrong clicker, the late click, the double click, two replicas, and GitHub failing half-way.
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { startBotOnSandbox } from "../../src/sandbox/bot.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import type { PostedMessage } from "../../src/sandbox/slack/server.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { capturedLog, startWorld, textOf, type World } from "../helpers/world.js";

async function auditCount(world: World, action: string, outcome?: string): Promise<number> {
  let n = 0;
  for await (const e of world.bot.bot.store.audit.all()) if (e.action === action && (!outcome || e.outcome === outcome)) n++;
  return n;
}

/** Every secret GitHub ever handed out in this world, to look for in the database. */
function secretsOf(world: World): string[] {
  const w = world.sandbox.world;
  return [
    ...w.apps.flatMap((a) => [a.pem.split("\n")[1] as string, a.clientSecret, a.webhookSecret ?? ""]),
    ...w.tokens.map((t) => t.token),
  ].filter(Boolean);
}

async function databaseText(world: World): Promise<string> {
  let out = "";
  for (const t of [
    "connections",
    "credentials",
    "operations",
    "approvals",
    "oauth_states",
    "audit_log",
    "features",
    "admins",
    "slack_events",
  ]) {
    out += JSON.stringify((await sql`select * from ${sql.table(t)}`.execute(world.testDb.db.kysely)).rows);
  }
  return out;
}

describe.each(ENGINES)("disable (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  async function connectedWorld(env: Record<string, string> = {}): Promise<World> {
    world = await startWorld(engine, { env });
    await world.enable();
    return world;
  }

  async function requestDisable(user: "alice" | "bob" = "alice"): Promise<PostedMessage> {
    // Only a card posted after this request: an earlier request's card may still match.
    const since = world.mark();
    await world.command(user, "disable acme");
    const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/, since));
    // The requester's confirmation comes once the card is recorded with the request, so a sweep
    // or a click that follows can update it.
    await world.privateMessage(user, /Posted the disconnect request for acme/, since);
    return card;
  }

  it("the card says what will happen; approving revokes, uninstalls and deletes every credential", async () => {
    await connectedWorld();
    const card = await requestDisable();
    const text = textOf(card);
    expect(text).toContain("revoke the installation token on GitHub");
    expect(text).toMatch(/uninstall the app .+ from acme/);
    expect(text).toContain("from every replica and every future backup");
    expect(text).toContain("GitHub has no API to delete the app registration");
    expect(text).toContain("Requested by <@U0ALICE001>");
    expect(text).toMatch(/Expires at .+ UTC/);
    const button = (card.blocks as Array<{ elements?: Array<{ action_id: string; style?: string; confirm?: unknown }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === "disable.approve");
    expect(button).toMatchObject({ style: "danger", confirm: expect.any(Object) });

    await world.click("alice", card, "disable.approve");
    const done = await world.card(/Disconnected acme/);
    expect(textOf(done)).toContain("Installation token revoked; app uninstalled; every credential deleted from this server.");
    expect(textOf(done)).toContain("The app registration still exists on GitHub");
    expect(JSON.stringify(done.blocks)).not.toContain("disable.approve");

    const installation = world.sandbox.world.installations.at(-1)!;
    expect(installation.deleted).toBe(true);
    expect(world.sandbox.world.tokens.every((t) => t.revoked || t.expiresAt < world.sandbox.world.now())).toBe(true);
    const connection = await world.bot.bot.store.connections.latest();
    expect(connection).toMatchObject({ status: "disconnected", disconnectedBySlack: SANDBOX_USERS.alice.slack });
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    const n = Number(((await sql`select count(*) as n from credentials`.execute(world.testDb.db.kysely)).rows[0] as { n: number }).n);
    expect(n).toBe(0);
    expect(await auditCount(world, "disable.done", "ok")).toBe(1);
    const db = await databaseText(world);
    for (const secret of secretsOf(world)) expect(db).not.toContain(secret);
    if (engine === "sqlite") {
      const file = readFileSync(world.testDb.url.slice("sqlite:".length)).toString("latin1");
      const wal = (() => {
        try {
          return readFileSync(`${world.testDb.url.slice("sqlite:".length)}-wal`).toString("latin1");
        } catch {
          return "";
        }
      })();
      for (const secret of secretsOf(world)) {
        expect(file).not.toContain(secret);
        expect(wal).not.toContain(secret);
      }
    }
    // Reconnecting works right away.
    await world.command("alice", "enable acme");
    await world.card(/Accept addendum and continue/);
  });

  it("peer policy: the requester's own click is refused, a second admin's works", async () => {
    await connectedWorld({ GHCONNECT_DISCONNECT_APPROVAL: "peer" });
    const card = await requestDisable("alice");
    expect(textOf(card)).toContain("a second admin (not the requester) must approve");
    await world.click("alice", card, "disable.approve");
    const refusal = await world.privateMessage("alice", /needs a second admin/);
    expect(textOf(refusal)).toContain("Nothing was changed");
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
    await world.click("bob", card, "disable.approve");
    await world.card(/Disconnected acme/);
    expect(textOf(await world.card(/Disconnected acme/))).toContain("approved by <@U0BOB00001>");
  });

  it("a non-admin's click, and an admin whose site-admin right was revoked since, change nothing and are audited", async () => {
    await connectedWorld();
    const card = await requestDisable("alice");
    await world.click("mallory", card, "disable.approve");
    await world.privateMessage("mallory", /not in ghconnect's admin roster/);
    world.sandbox.world.ghesUsers.find((u) => u.login === "alice")!.site_admin = false;
    await world.click("alice", card, "disable.approve");
    await world.privateMessage("alice", /`alice` is not a site administrator now/);
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
    expect(await auditCount(world, "disable.approve", "refused")).toBe(2);
    expect(await auditCount(world, "disable.done")).toBe(0);
  });

  it("a non-admin clicking Disconnect again and again is told each time, but the card's thread shows one line and the trail one entry counting them; the log has each repeat", async () => {
    const { log, lines: logLines } = capturedLog("info");
    world = await startWorld(engine, { log });
    await world.enable();
    const card = await requestDisable("alice");
    for (let i = 0; i < 5; i++) {
      const since = world.mark();
      await world.click("mallory", card, "disable.approve");
      await world.privateMessage("mallory", /not in ghconnect's admin roster/, since);
    }
    const mallory = SANDBOX_USERS.mallory.slack;
    const linesOf = () =>
      world.sandbox.slack.messages.filter((m) => m.threadTs === card.ts && !m.user && textOf(m).includes(`<@${mallory}>`));
    await eventually(() => linesOf().length > 0);
    expect(await auditCount(world, "disable.approve", "refused")).toBe(1);
    // The other four are counted toward the next entry of the kind (the app's refusal sweep).
    const tally = await sql<{ pending: number }>`select pending from refusal_tallies where action = 'disable.approve'`.execute(
      world.testDb.db.kysely,
    );
    expect(tally.rows.map((r) => Number(r.pending))).toEqual([4]);
    expect(linesOf()).toHaveLength(1);
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
    const counted = logLines.filter((l) => l.includes("refused request counted toward the next audit entry of its kind"));
    expect(counted).toHaveLength(4);
    expect(counted.every((l) => l.includes('"action":"disable.approve"') && l.includes(mallory))).toBe(true);
  });

  it("20 admins clicking at once, each click replayed by Slack, across two bot processes: one disconnect", async () => {
    const admins = Array.from({ length: 20 }, (_, i) => ({ slack: `U0ADM${String(i).padStart(5, "0")}`, ghes: `adm${i}` }));
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: admins.map((a) => `${a.slack}:${a.ghes}`).join(",") } });
    for (const a of admins) world.sandbox.world.ghesUsers.push({ login: a.ghes, id: 1000 + admins.indexOf(a), site_admin: true });
    // The roster was seeded from the env; alice is not in it, so adm0 connects through the flow.
    // Trusted configuration, like GHCONNECT_ADMINS: alice needs no GHES sign-in for this test.
    await world.bot.bot.store.admins.upsert(SANDBOX_USERS.alice.slack, "alice", "GHCONNECT_ADMINS");
    await world.enable();
    const second = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ADMINS: "" } });
    try {
      await world.command("alice", "disable acme");
      const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/));
      const button = (card.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === "disable.approve")!;
      const api = world.sandbox.routers.api.received;
      const before = api.length;
      const requests = admins.map((a, i) =>
        (i % 2 === 0 ? world.bot.driver : second.driver).clickRequest(a.slack, card, "disable.approve", button.value),
      );
      const results = await Promise.all([
        ...requests.map((r, i) => (i % 2 === 0 ? world.bot.driver : second.driver).send(r)),
        ...requests.map((r, i) => (i % 2 === 0 ? second.driver : world.bot.driver).retry(r, 1)),
      ]);
      expect(results.every((r) => r.status === 200)).toBe(true);
      await world.card(/Disconnected acme/);
      // Should this ever time out, it says what there was instead: how many refusals, and what
      // each clicker was told (a refusal, or an error that lost one).
      const clickerReplies = () =>
        admins.flatMap((a) =>
          world.sandbox.slack.messages.filter((m) => m.user === a.slack).map((m) => `${a.slack}: ${textOf(m).slice(0, 120)}`),
        );
      await eventually(async () => {
        const refused = await auditCount(world, "disable.approve", "refused");
        if (refused !== 19)
          throw new Error(`${refused} disable.approve refusals audited, not 19; replies:\n${clickerReplies().join("\n")}`);
        return true;
      });
      const calls = api.slice(before);
      expect(calls.filter((c) => c.method === "DELETE" && c.path === "/installation/token")).toHaveLength(1);
      expect(calls.filter((c) => c.method === "DELETE" && c.path.startsWith("/app/installations/"))).toHaveLength(1);
      expect(await auditCount(world, "disable.done")).toBe(1);
      expect(await auditCount(world, "disable.approved")).toBe(1);
      // Each loser's refusal is audited before its reply is posted: wait for the replies too.
      const losers = () =>
        admins.flatMap((a) =>
          world.sandbox.slack.messages.filter((m) => m.user === a.slack && /already approved by <@U0ADM\d+> at/.test(textOf(m))),
        );
      await eventually(async () => losers().length >= 19);
      expect(losers()).toHaveLength(19);
      const entries = [];
      for await (const e of world.bot.bot.store.audit.all()) entries.push(e);
      const { verifyChain } = await import("../../src/core/audit.js");
      expect(verifyChain(entries)).toMatchObject({ ok: true });
    } finally {
      await second.stop();
    }
  });

  it("an expired request: the app's own sweep removes its buttons, and a late click is refused", async () => {
    await connectedWorld({ GHCONNECT_SWEEP_INTERVAL: "1s" });
    const card = await requestDisable();
    world.sandbox.world.advance(16 * 60_000);
    const expired = await world.card(/Expired at .* without approval/);
    expect(JSON.stringify(expired.blocks)).not.toContain("disable.approve");
    await world.click("alice", card, "disable.approve");
    await world.privateMessage("alice", /expired at/);
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
  });

  it("the bot cannot post the card (not in the admin channel): nothing is requested, the requester is told what to do, and a new request works once it can", async () => {
    await connectedWorld();
    world.sandbox.slack.botNotIn.add(SANDBOX_ADMIN_CHANNEL);
    const seq = await world.lastSeq();
    const since = world.mark();
    await world.command("alice", "disable acme");
    const reply = textOf(await world.privateMessage("alice", /Nothing was requested|Posted/, since));
    expect(reply).toContain(
      `:warning: Nothing was requested: the disconnect card could not be posted in <#${SANDBOX_ADMIN_CHANNEL}> (Slack did not take it), so nobody could approve it. acme stays connected.`,
    );
    expect(reply).toContain(`Invite the bot to <#${SANDBOX_ADMIN_CHANNEL}>`);
    const trail = (await world.auditSince(seq)).filter((e) => e.action.startsWith("disable."));
    expect(trail.map((e) => [e.action, e.outcome])).toEqual([
      ["disable.requested", "pending"],
      ["disable.withdrawn", "failed"],
    ]);
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
    // Invited back: the next request is not blocked by the withdrawn one.
    world.sandbox.slack.botNotIn.delete(SANDBOX_ADMIN_CHANNEL);
    const card = await requestDisable();
    await world.click("alice", card, "disable.approve");
    await world.card(/Disconnected acme/);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
  });

  it("cancel, then a click: refused", async () => {
    await connectedWorld();
    const card = await requestDisable();
    await world.click("bob", card, "disable.cancel");
    await world.card(/Cancelled by <@U0BOB00001>/);
    await world.click("alice", card, "disable.approve");
    await world.privateMessage("alice", /was cancelled by <@U0BOB00001>/);
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
  });

  it("an old card's button, after its request was cancelled and the server disconnected and reconnected, changes nothing", async () => {
    await connectedWorld();
    const oldCard = await requestDisable();
    // Someone disconnects through a second request, then connects again.
    await world.bot.bot.disable.cancel(
      (oldCard.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === "disable.cancel")!.value!,
      SANDBOX_USERS.bob.slack,
    );
    const second = await requestDisable("bob");
    await world.click("bob", second, "disable.approve");
    await world.card(/Disconnected acme/);
    await world.enable();
    // The first card's button is still on somebody's screen.
    const pendingCard = structuredClone(oldCard);
    const since = world.mark();
    await world.click("alice", pendingCard, "disable.approve");
    await world.privateMessage("alice", /This request was cancelled by <@U0BOB00001>/, since);
    expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
  });

  it("reconnected while the request waited: refused with that reason", async () => {
    await connectedWorld();
    const card = await requestDisable();
    const approvalId = (card.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === "disable.approve")!.value!;
    // Disconnect by a path that bypasses this approval (a second request), then reconnect.
    const { store } = world.bot.bot;
    const active = (await store.connections.active())!;
    await store.connections.markDisconnected(active.id, active.version, SANDBOX_USERS.bob.slack);
    await world.enable();
    const reply = await world.bot.bot.disable.approve(approvalId, SANDBOX_USERS.alice.slack);
    expect(reply.text).toMatch(/The server was reconnected \(to acme, at .+\) since this request was made/);
    expect((await store.approvals.get(approvalId))?.status).toBe("stale");
  });

  it("GitHub failing on uninstall: the error is shown, and “delete local credentials anyway” deletes them", async () => {
    await connectedWorld();
    const card = await requestDisable();
    world.sandbox.world.inject({ host: "api", status: 500, pathIncludes: "/app/installations/", times: 3 });
    await world.click("alice", card, "disable.approve");
    const failed = structuredClone(await world.card(/GitHub failed while disconnecting/));
    expect(textOf(failed)).toMatch(/answered 500/);
    expect(textOf(failed)).toContain("GitHub request id");
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
    await world.click("bob", failed, "disable.force");
    const done = await world.card(/Disconnected acme/);
    expect(textOf(done)).toContain("GitHub could not be reached");
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    const db = await databaseText(world);
    for (const secret of secretsOf(world)) expect(db).not.toContain(secret);
    expect(await auditCount(world, "disable.github_failed")).toBe(1);
    expect(await auditCount(world, "disable.done")).toBe(1);
  });

  it("refuses to disable an org it is not connected to, naming the one it is", async () => {
    await connectedWorld();
    await world.command("alice", "disable octo-inc");
    const reply = await world.privateMessage("alice", /connected to acme, not octo-inc/);
    expect(textOf(reply)).toContain("/ghconnect disable acme");
  });
});
