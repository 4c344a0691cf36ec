// The installation token's refresh does what it says: ten minutes before expiry the job makes
// GitHub mint a new token although the cached one is still good, `token.refreshed` is written only
// for a token GitHub minted, a failing GitHub is retried every minute from then on, and
// ghconnect_token_refreshes_total counts the tokens minted. Time is the sandbox's clock
// (installation tokens expire an hour after minting on it).
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/core/audit.js";
import { type SandboxedBot, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

const MINUTE = 60_000;

/** ghconnect_token_refreshes_total{outcome} as Prometheus scrapes it (0 before the first). */
async function refreshesOnMetrics(world: World, outcome: "refreshed" | "failed"): Promise<number> {
  const text = await (await fetch(world.bot.metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith(`ghconnect_token_refreshes_total{outcome="${outcome}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe.each(ENGINES)("installation token refresh (%s)", (engine) => {
  let world: World;
  let replica: SandboxedBot | undefined;
  afterEach(async () => {
    await replica?.stop();
    replica = undefined;
    await world?.close();
  });

  async function refreshedEntries(): Promise<AuditEntry[]> {
    return (await world.bot.bot.store.audit.latest(200)).filter((e) => e.action === "token.refreshed").reverse();
  }

  /** The expiry of every token GitHub minted for the installation, as GitHub wrote it. */
  const minted = () => world.sandbox.world.tokens.map((t) => new Date(t.expiresAt).toISOString());

  it("a due refresh mints a new token although the cached one has 9 minutes left; token.refreshed names it; nothing due, nothing written", async () => {
    world = await startWorld(engine);
    await world.enable();
    const { tokens } = world.bot.bot;
    expect(minted()).toHaveLength(1);
    const first = await tokens.current();

    world.sandbox.world.advance(51 * MINUTE);
    expect((await tokens.current()).token).toBe(first.token); // still served from the cache
    expect(await tokens.refreshIfDue()).toBe("refreshed");
    expect(minted()).toHaveLength(2);
    const renewed = await tokens.current();
    expect(renewed.token).not.toBe(first.token);
    expect(renewed.expiresAt).toBe(minted()[1]);
    expect((await world.bot.bot.store.connections.active())?.tokenExpiresAt).toBe(minted()[1]);

    // Nothing is due any more: no GitHub call, no entry.
    expect(await tokens.refreshIfDue()).toBe("fresh");
    expect(minted()).toHaveLength(2);
    // Every token.refreshed entry is a token GitHub minted by the refresh, with its expiry.
    expect((await refreshedEntries()).map((e) => [e.outcome, e.target, e.details.expires_at])).toEqual([["ok", "acme", minted()[1]]]);
  });

  it("the cache keeps the token itself with GitHub's expiry; a token kept in auth-app's own cache format (earlier versions) is not handed out, a new one is minted", async () => {
    world = await startWorld(engine);
    await world.enable();
    const { store, tokens } = world.bot.bot;
    const held = await tokens.current();
    const owner = { connectionId: held.connection.id };
    expect(await store.credentials.get(owner, "installation_token")).toEqual({ secret: held.token, expiresAt: minted()[0] });

    // What an earlier version kept: auth-app's cache value (token|createdAt|expiresAt|selection|permissions|file).
    const legacy = `${held.token}|${new Date(world.sandbox.world.now()).toISOString()}|${held.expiresAt}|all|issues,metadata|`;
    await store.credentials.put(owner, "installation_token", legacy, new Date(held.expiresAt));
    const next = await tokens.current();
    expect(minted()).toHaveLength(2);
    expect(next.token).not.toBe(held.token);
    expect(await store.credentials.get(owner, "installation_token")).toEqual({ secret: next.token, expiresAt: minted()[1] });
    expect((await tokens.current()).token).toBe(next.token); // and it is served from the cache from then on
    expect(minted()).toHaveLength(2);
  });

  it("a failing GitHub is retried every minute from ten minutes before expiry; token.refreshed only once a token is minted", async () => {
    world = await startWorld(engine);
    await world.enable();
    const { tokens } = world.bot.bot;
    const held = await tokens.current();
    world.sandbox.world.advance(51 * MINUTE);
    // Three answers of 503: the request and the two retries of one attempt.
    world.sandbox.world.inject({ host: "api", status: 503, pathIncludes: "/access_tokens", times: 6 });
    expect(await tokens.refreshIfDue()).toBe("failed");
    world.sandbox.world.advance(MINUTE);
    expect(await tokens.refreshIfDue()).toBe("failed");
    expect(await refreshedEntries()).toEqual([]);
    expect((await tokens.current()).token).toBe(held.token); // the held token still serves meanwhile
    const warnings = world.channel().filter((m) => /Could not refresh the installation token for acme/.test(textOf(m)));
    expect(warnings).toHaveLength(1);

    world.sandbox.world.advance(MINUTE);
    expect(await tokens.refreshIfDue()).toBe("refreshed");
    expect(minted()).toHaveLength(2);
    expect((await refreshedEntries()).map((e) => e.details.expires_at)).toEqual([minted()[1]]);
    expect((await tokens.current()).token).not.toBe(held.token);
  });

  it("ghconnect_token_refreshes_total rises by exactly the number of tokens the refresh minted", async () => {
    world = await startWorld(engine);
    await world.enable();
    const { tokens } = world.bot.bot;
    expect(await refreshesOnMetrics(world, "refreshed")).toBe(0);

    world.sandbox.world.advance(51 * MINUTE);
    await tokens.refreshIfDue();
    await tokens.refreshIfDue(); // fresh now: not counted
    expect(await refreshesOnMetrics(world, "refreshed")).toBe(1);

    world.sandbox.world.advance(51 * MINUTE);
    world.sandbox.world.inject({ host: "api", status: 503, pathIncludes: "/access_tokens", times: 3 });
    expect(await tokens.refreshIfDue()).toBe("failed");
    expect(await refreshesOnMetrics(world, "refreshed")).toBe(1);
    expect(await refreshesOnMetrics(world, "failed")).toBe(1);
    world.sandbox.world.advance(MINUTE); // the next minute's refresh
    expect(await tokens.refreshIfDue()).toBe("refreshed");
    expect(await refreshesOnMetrics(world, "refreshed")).toBe(2);
    expect(minted()).toHaveLength(3);
  });

  it("two replicas on one database refreshing in the same minute: GitHub mints one token and one token.refreshed is written; the next minute is claimed afresh", async () => {
    world = await startWorld(engine);
    await world.enable();
    replica = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ADMINS: "" } });
    const replicas = [world.bot.bot.tokens, replica.bot.tokens];
    world.sandbox.world.advance(51 * MINUTE);
    // Both replicas' minute ticks at once, as their schedulers would run them.
    const results = await Promise.all(replicas.map((t) => t.refreshIfDue()));
    expect(results.toSorted()).toEqual(["refreshed", "taken"]);
    expect(minted()).toHaveLength(2);
    expect((await refreshedEntries()).map((e) => e.details.expires_at)).toEqual([minted()[1]]);

    // A failing GitHub is still retried each minute by whichever replica claims it.
    world.sandbox.world.advance(51 * MINUTE);
    world.sandbox.world.inject({ host: "api", status: 503, pathIncludes: "/access_tokens", times: 3 });
    expect((await Promise.all(replicas.map((t) => t.refreshIfDue()))).toSorted()).toEqual(["failed", "taken"]);
    world.sandbox.world.advance(MINUTE);
    expect((await Promise.all(replicas.map((t) => t.refreshIfDue()))).toSorted()).toEqual(["refreshed", "taken"]);
    expect(minted()).toHaveLength(3);
    expect((await refreshedEntries()).map((e) => e.details.expires_at)).toEqual([minted()[1], minted()[2]]);
  });
});
