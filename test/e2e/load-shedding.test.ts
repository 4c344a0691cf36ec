// Load shedding (SPEC §7): one person's flood of slow commands cannot lock the admins out, and
// every command turned away is told so and audited, once, without its text.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/core/audit.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually, messageText } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("load shedding (%s)", (engine) => {
  let world: World | undefined;
  let release: (() => void) | undefined;
  afterEach(async () => {
    release?.();
    await world?.close();
    world = undefined;
  });

  /** Connected, unified search on, and GitHub's search holding its next `count` answers until released. */
  async function connectedWithSlowGitHubSearch(count: number, env: Record<string, string> = {}): Promise<World> {
    const w = await startWorld(engine, { env });
    world = w;
    await w.enable();
    await w.command("alice", "feature enable unified-search");
    await w.privateMessage("alice", /Turned on Unified search/);
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    w.sandbox.world.inject({ host: "api", pathIncludes: "/search", until: held, times: count });
    return w;
  }

  /**
   * A person already linked to github.com as `login` (search runs with their own token): the
   * token is one the connected app issued them, stored as `/ghconnect link` stores it.
   */
  async function linkedOnGitHub(w: World, slackUserId: string, login: string): Promise<void> {
    const { world: gh } = w.sandbox;
    const app = gh.apps.find((a) => !a.deleted);
    const connection = await w.bot.bot.store.connections.active();
    const token = `ghu_${randomBytes(18).toString("hex")}`;
    gh.userTokens.set(token, { login, appId: app?.id ?? 0, expiresAt: gh.now() + 8 * 3_600_000 });
    await w.bot.bot.store.links.put({
      slackUserId,
      side: "github",
      login,
      connectionId: connection?.id ?? null,
      token,
      status: "active",
      linkedAt: new Date(gh.now()).toISOString(),
    });
  }

  const searchesAtGitHub = (w: World) => w.sandbox.routers.api.received.filter((r) => r.path.includes("/search")).length;

  async function busyEntries(w: World, expected: number): Promise<AuditEntry[]> {
    return eventually(async () => {
      const entries = (await w.bot.bot.store.audit.latest(200)).filter((e) => e.action === "command.busy");
      return entries.length >= expected ? entries : undefined;
    });
  }

  it("one user's flood of searches gets the per-user message; an admin's status and disable still get their real answers", async () => {
    const w = await connectedWithSlowGitHubSearch(3);
    await linkedOnGitHub(w, SANDBOX_USERS.mallory.slack, "ghost");
    const before = searchesAtGitHub(w);
    // Three searches are taken: acknowledged, and held at a slow GitHub.
    const taken = await Promise.all([1, 2, 3].map((i) => w.command("mallory", `search flaky ${i}`)));
    for (const r of taken) expect([r.status, r.ack]).toEqual([200, undefined]);
    await eventually(() => searchesAtGitHub(w) - before === 3);

    // The rest of the flood: each gets the per-user message at once.
    const flood = await Promise.all([4, 5, 6, 7, 8].map((i) => w.command("mallory", `search secret-project-${i}`)));
    for (const r of flood) {
      expect(r.status).toBe(200);
      expect(messageText(r.ack as object)).toContain(
        "You already have 3 commands running; wait for their answers (they will appear here) before sending more. This one was not started; nothing was done.",
      );
    }

    // Other people are unaffected: an admin's status and disable get their real answers.
    let since = w.mark();
    await w.command("alice", "status");
    await w.privateMessage("alice", /Connected to acme/, since);
    since = w.mark();
    const disable = await w.command("alice", "disable acme");
    expect(disable.ack).toBeUndefined();
    await w.card(/Disconnect acme\?/, since);

    // One audit entry per command turned away, naming the subcommand, never the query.
    const entries = await busyEntries(w, 5);
    expect(entries).toHaveLength(5);
    for (const entry of entries) {
      expect(entry).toMatchObject({
        actor_slack: "U0MALLORY1",
        outcome: "refused",
        details: { command: "search", reason: "per-user limit", limit: 3 },
      });
      expect(JSON.stringify(entry)).not.toContain("secret-project");
    }

    // Nothing is lost: once GitHub answers, the three taken searches get their results, and the
    // user may search again.
    release?.();
    await eventually(() => w.privateTo("mallory").filter((m) => /Search:/.test(textOf(m))).length === 3);
    const again = await w.command("mallory", "search flaky");
    expect(again.ack).toBeUndefined();
    await eventually(() => w.privateTo("mallory").filter((m) => /Search:/.test(textOf(m))).length === 4);
    expect(await busyEntries(w, 5)).toHaveLength(5);
  }, 60_000);

  it("with the shared queue full, a slow command is told the bot is busy and audited; help and status still answer", async () => {
    // No waiting room: the eight slots after acks are the whole queue.
    const w = await connectedWithSlowGitHubSearch(8, { GHCONNECT_QUEUE_LIMIT: "0" });
    // A status read just now is fresh: the next one is answered from the database, in the ack.
    const since = w.mark();
    await w.command("alice", "status");
    await w.privateMessage("alice", /Connected to acme/, since);
    const before = searchesAtGitHub(w);
    const users = ["U0FLOOD001", "U0FLOOD002", "U0FLOOD003"];
    for (const [i, login] of ["octocat", "monalisa", "hubot"].entries()) await linkedOnGitHub(w, users[i] as string, login);
    const eight = [users[0], users[0], users[0], users[1], users[1], users[1], users[2], users[2]] as string[];
    await Promise.all(eight.map((user, i) => w.bot.driver.command(user, `search flaky ${i}`)));
    await eventually(() => searchesAtGitHub(w) - before === 8);

    const turned = await w.bot.driver.command(users[2] as string, "search private-thing");
    expect(messageText(turned.ack as object)).toContain(
      "ghconnect is busy with a burst of requests and did not start this one; nothing was done. Try again in a minute.",
    );
    // Answers that need no slot are still given.
    expect(messageText((await w.command("mallory", "help")).ack as object)).toContain("/ghconnect enable ORG");
    expect(messageText((await w.command("alice", "status")).ack as object)).toMatch(/Connected to acme/);

    const [entry] = await busyEntries(w, 1);
    expect(entry).toMatchObject({ actor_slack: users[2], outcome: "refused", details: { command: "search", reason: "queue full" } });
    expect(JSON.stringify(entry)).not.toContain("private-thing");

    // Slack's retry of the refused delivery is answered again but not audited twice.
    await w.bot.driver.retry(turned.request, 1);
    release?.();
    await eventually(() => w.sandbox.slack.messages.filter((m) => m.via === "response_url" && /Search:/.test(textOf(m))).length === 8);
    expect(await busyEntries(w, 1)).toHaveLength(1);
  }, 60_000);
});
