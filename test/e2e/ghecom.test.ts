// GitHub Connect to an enterprise on GHE.com (data residency): what an admin sees when the bot's
// GITHUB_URL is https://SUBDOMAIN.ghe.com. The sandbox plays GitHub under GHE.com's host names
// (acme.ghe.com, api.acme.ghe.com, …) behind a proxy that resolves them, so the bot derives the
// API and uploads hosts itself and reaches them by name.
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("GHE.com (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  async function failedCard(): Promise<string> {
    const card = await world.card(/Preflight failed; nothing was changed/);
    expect(await world.bot.bot.store.operations.inFlight()).toBeUndefined();
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    return textOf(card);
  }

  it("preflight reaches every documented GHE.com host, by name, through the proxy", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" } } });
    expect(world.bot.config.GITHUB_API_URL).toBe("http://api.acme.ghe.com");
    await world.command("alice", "enable acme");
    const card = textOf(await world.card(/Accept addendum and continue/));
    expect(card).toContain(
      "is stored on acme.ghe.com, and a GitHub App owned by acme is created and installed. acme.ghe.com users cannot change this server.",
    );
    for (const line of [
      "✅ GHE.com (acme.ghe.com): reachable through the proxy",
      "✅ API (api.acme.ghe.com): reachable through the proxy",
      "✅ uploads (uploads.acme.ghe.com): reachable through the proxy",
      "✅ auth (auth.ghe.com): reachable through the proxy",
    ]) {
      expect(card).toContain(line);
    }
    expect(world.sandbox.proxy?.seen).toEqual(
      expect.arrayContaining(["acme.ghe.com:80", "api.acme.ghe.com:80", "uploads.acme.ghe.com:80", "auth.ghe.com:80"]),
    );
  });

  it("an unreachable GHE.com subdomain: each of its hosts fails by name, with the fix, and nothing is stored", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" } }, env: { GITHUB_URL: "http://acme-typo.ghe.com" } });
    await world.command("alice", "enable acme");
    const card = await failedCard();
    for (const host of ["acme-typo.ghe.com", "api.acme-typo.ghe.com", "uploads.acme-typo.ghe.com"]) {
      expect(card).toContain(`(${host}): the proxy could not reach it (CONNECT answered 503: no such host, or it is down)`);
      expect(card).toContain(
        `Check that the proxy ${new URL(world.bot.config.HTTPS_PROXY as string).host} can resolve and reach ${host}. Check that acme-typo.ghe.com is your enterprise's subdomain (GITHUB_URL).`,
      );
    }
    expect(card).toContain("❌ GHE.com (acme-typo.ghe.com)");
    expect(card).not.toContain("objects-origin");
    expect(card).toContain("✅ auth (auth.ghe.com)");
    expect(world.sandbox.world.apps).toHaveLength(0);
  });

  it("GHES 3.11 is refused for GHE.com with the version it needs, and nothing is stored", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" }, ghesVersion: "3.11.5" } });
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toContain("runs GHES 3.11.5; GitHub Connect to GHE.com (acme.ghe.com) needs GHES 3.12 or later");
    expect(card).toContain("Upgrade GHES to 3.12 or later, then run enable again.");
    const mark = world.mark();
    await world.command("alice", "check");
    const check = textOf(await world.privateMessage("alice", /❌ \d+ checks? failed/, mark));
    expect(check).toContain("runs GHES 3.11.5; GitHub Connect to GHE.com (acme.ghe.com) needs GHES 3.12 or later");
    const actions: string[] = [];
    for await (const e of world.bot.bot.store.audit.all()) actions.push(`${e.action}:${e.outcome}`);
    expect(actions).toContain("enable.preflight:failed");
    expect(actions.filter((a) => a.startsWith("enable.connected"))).toEqual([]);
    expect(world.sandbox.world.apps).toHaveLength(0);
  });

  it("GHES 3.11 still connects to github.com: the 3.12 floor is GHE.com's alone", async () => {
    world = await startWorld(engine, { sandbox: { ghesVersion: "3.11.5" } });
    await world.command("alice", "enable acme");
    const card = textOf(await world.card(/Accept addendum and continue/));
    expect(card).toMatch(/✅ GHES: 127\.0\.0\.1:\d+ answers, version 3\.11\.5/);
  });

  it("features marks Server Statistics and GitHub.com actions as not offered on GHE.com, and refuses to turn them on", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" } } });
    await world.command("alice", "features");
    const list = textOf(await world.privateMessage("alice", /GitHub Connect features/));
    expect(list).toContain(
      "Server statistics `server-statistics` — 🚫 not offered on GHE.com (GitHub does not offer Server Statistics on GHE.com)",
    );
    expect(list).toContain(
      "Actions from GitHub.com `actions` — 🚫 not offered on GHE.com (GitHub does not offer actions from GitHub.com on GHE.com)",
    );
    expect(list).toMatch(/Unified search `unified-search` — ▫️ off/);
    // status agrees with features: not offered, not merely off.
    const statusMark = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Features:/, statusMark));
    expect(status).toContain("🚫 server-statistics");
    expect(status).toContain("🚫 actions");
    expect(status).toContain("▫️ unified-search");
    expect(status).toContain("(🚫 not offered on acme.ghe.com)");
    const mark = world.mark();
    await world.command("alice", "feature enable server-statistics");
    const refusal = textOf(await world.privateMessage("alice", /cannot be turned on/, mark));
    expect(refusal).toContain(
      "Server statistics cannot be turned on: GitHub does not offer Server Statistics on GHE.com (this server connects to acme.ghe.com).",
    );
    const refused: Array<{ target: string | null; reason: unknown }> = [];
    for await (const e of world.bot.bot.store.audit.all()) {
      if (e.action === "command.feature" && e.outcome === "refused") refused.push({ target: e.target, reason: e.details?.reason });
    }
    expect(refused).toEqual([
      {
        target: "server-statistics",
        reason:
          "Server statistics cannot be turned on: GitHub does not offer Server Statistics on GHE.com (this server connects to acme.ghe.com).",
      },
    ]);
  });

  it("enable, status, unified search, audit verify and disable against GHE.com, end to end", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" } } });
    const page = await world.enable("acme");
    expect(page.hops.some((h) => h.url.startsWith("http://acme.ghe.com/organizations/acme/settings/apps/new"))).toBe(true);
    const connected = textOf(await world.card(/Connected acme/));
    expect(connected).toMatch(/Connected by\n<@U0ALICE001> · GHES `alice` · acme\.ghe\.com `octocat`/);
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme/));
    expect(status).toContain("acme.ghe.com `octocat`");
    await world.command("alice", "feature enable unified-search");
    await world.privateMessage("alice", /Turned on Unified search/);
    // Search runs as the person: alice links both sides, the github.com one through acme.ghe.com.
    await world.link("alice", "ghes");
    // The GitHub side is named by its site everywhere: the thread line, the button, the pages, the DM and the channel.
    const connectedCard = await world.card(/Connected acme/);
    const threadLine = await eventually(() =>
      world.sandbox.slack.calls
        .filter((c) => c.method === "chat.postMessage" && c.args.thread_ts === connectedCard.ts)
        .map((c) => String(c.args.text))
        .find((t) => t.startsWith("🔗 Connected acme")),
    );
    expect(threadLine).toMatch(/^🔗 Connected acme: installation \d+, installed by acme\.ghe\.com `octocat`\.$/);
    let mark = world.mark();
    await world.command("alice", "link");
    const offer = await world.privateMessage("alice", /Prove who you are/, mark);
    expect(textOf(offer)).not.toContain("github.com");
    const signIn = world.linkIn(offer, /^Sign in to acme\.ghe\.com$/);
    const linked = await world.browse("alice", signIn);
    expect(linked.hops.some((h) => h.pressed?.button === "I am U0ALICE001: continue to acme.ghe.com")).toBe(true);
    expect(linked.text).toContain("You are octocat on acme.ghe.com.");
    const dm = await eventually(() =>
      world.sandbox.slack.messages.find((m) => m.channel === "U0ALICE001" && /now linked to the acme\.ghe\.com login/.test(textOf(m))),
    );
    expect(textOf(dm)).toContain("Your Slack account is now linked to the acme.ghe.com login `octocat`.");
    expect(textOf(await world.card(/linked acme\.ghe\.com `octocat`/, mark))).toContain(
      "<@U0ALICE001> signed in and linked acme.ghe.com `octocat` to their Slack account.",
    );
    mark = world.mark();
    await world.command("alice", "search flaky");
    const results = textOf(await world.privateMessage("alice", /Search:/, mark));
    expect(results).toContain("<http://acme.ghe.com/acme/api/issues/101|acme/api#101>");
    // alice sees her own private GHES issue too (security/vault#4 is visible to her alone).
    expect(results).toContain("security/vault#4");
    expect(results).toContain("GHES: 3 · acme on GitHub: 2 · showing 5");
    mark = world.mark();
    await world.command("alice", "audit verify");
    expect(textOf(await world.privateMessage("alice", /chain intact/, mark))).toMatch(/✅ \d+ entries, chain intact/);
    const since = world.mark();
    await world.command("alice", "disable acme");
    const card = await world.card(/Disconnect acme\?/, since);
    await world.click("alice", card, "disable.approve");
    const done = textOf(await world.card(/Disconnected acme/, since));
    expect(done).toContain("Delete it at <http://acme.ghe.com/organizations/acme/settings/apps/");
    expect(world.sandbox.proxy?.seen).toContain("api.acme.ghe.com:80");
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(world.sandbox.world.installations.filter((i) => i.account.login === "acme" && !i.deleted)).toHaveLength(0);
  });
});
