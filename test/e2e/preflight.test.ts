// What an admin sees when the preflight finds a problem: the check that failed, why, and what to
// do — and nothing changed.
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/sandbox/bot.js";
import { SANDBOX_ADMIN_CHANNEL } from "../../src/sandbox/index.js";
import { type SandboxProxy, startProxy } from "../../src/sandbox/proxy.js";
import { ENGINES } from "../helpers/db.js";
import { type BlackHole, startBlackHole } from "../helpers/network.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("enable preflight (%s)", (engine) => {
  let world: World;
  let proxy: SandboxProxy | undefined;
  let blackHole: BlackHole | undefined;
  afterEach(async () => {
    await world?.close();
    await proxy?.stop();
    await blackHole?.stop();
    proxy = blackHole = undefined;
  });

  async function failedCard(): Promise<string> {
    const card = await world.card(/Preflight failed; nothing was changed/);
    expect(await world.bot.bot.store.operations.inFlight()).toBeUndefined();
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    return textOf(card);
  }

  it("GHES down: the GHES check fails (after retries) and says so", async () => {
    world = await startWorld(engine);
    world.sandbox.world.inject({ host: "ghes", status: 503, pathIncludes: "/meta", times: 3 });
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toMatch(/❌ GHES: Reading the GHES version: 127\.0\.0\.1:\d+ answered 503/);
    expect(card).toContain("GitHub request id");
    const reply = await world.privateMessage("alice", /Preflight for acme failed/);
    expect(textOf(reply)).toContain("GHES");
  });

  it("Management Console password wrong: the license check fails with what to set", async () => {
    world = await startWorld(engine);
    world.sandbox.world.managePassword = "rotated";
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toContain("refused GHES_MANAGE_PASSWORD (401)");
    expect(card).toContain("Set GHES_MANAGE_PASSWORD");
  });

  it("license expired: refused, with the date", async () => {
    world = await startWorld(engine);
    world.sandbox.world.licenseExpiresAt = "2024-01-31T23:59:59Z";
    await world.command("alice", "enable acme");
    expect(await failedCard()).toContain("the license of Example Corp expired on 2024-01-31");
  });

  it("license close to expiry: a warning, and the flow goes on", async () => {
    world = await startWorld(engine);
    // Ten and a half days ahead: whole days left is 10 however long the test takes to get there.
    world.sandbox.world.licenseExpiresAt = new Date(world.sandbox.world.now() + 10.5 * 86_400_000).toISOString();
    await world.command("alice", "enable acme");
    const card = await world.card(/Accept addendum and continue/);
    expect(textOf(card)).toContain("⚠️ License: Example Corp, expires in 10 days");
  });

  it("api.github.com unreachable: that host fails, the others are reported too", async () => {
    const closed = await freePort(); // nothing listens there
    world = await startWorld(engine, { env: { GITHUB_API_URL: `http://127.0.0.1:${closed}` } });
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toContain(`❌ API (127.0.0.1:${closed}): the connection was refused`);
    expect(card).toMatch(/✅ github\.com/);
  });

  it("through HTTPS_PROXY: every GitHub host is reached through the proxy", async () => {
    proxy = await startProxy();
    world = await startWorld(engine, { env: { HTTPS_PROXY: proxy.url } });
    await world.command("alice", "enable acme");
    const card = await world.card(/Accept addendum and continue/);
    expect(textOf(card)).toContain(`through the proxy ${new URL(proxy.url).host}`);
    const { web, api, uploads } = world.sandbox.urls;
    for (const url of [web, api, uploads]) expect(proxy.seen).toContain(new URL(url).host);
  });

  it("a proxy that refuses api.github.com is reported as such, with the fix", async () => {
    proxy = await startProxy();
    world = await startWorld(engine, { env: { HTTPS_PROXY: proxy.url } });
    proxy.refuse.add(new URL(world.sandbox.urls.api).host);
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toMatch(/❌ API \(127\.0\.0\.1:\d+\): the proxy refused CONNECT \(403\) through the proxy/);
    expect(card).toMatch(/Allow 127\.0\.0\.1:\d+ in the proxy/);
  });

  it("api.github.com accepts and never answers: that check gives up after its 5 s, names the host and the fix", async () => {
    blackHole = await startBlackHole();
    world = await startWorld(engine, { env: { GITHUB_API_URL: blackHole.url } });
    await world.command("alice", "enable acme");
    const card = await failedCard();
    expect(card).toContain(`❌ API (${blackHole.host}): no answer within 5 s (timeout)`);
    expect(card).toContain(
      `→ ${blackHole.host} did not answer: a firewall may drop the traffic; allow outbound HTTPS to ${blackHole.host}`,
    );
    expect(card).toMatch(/✅ GHES: 127\.0\.0\.1:\d+ answers/);
    expect(card).toMatch(/✅ uploads/);
  });

  it("/ghconnect check in Slack has the same limits: a hung host and Slack's Web API down are each named with the fix", async () => {
    blackHole = await startBlackHole();
    world = await startWorld(engine, { env: { GITHUB_UPLOADS_URL: blackHole.url } });
    const since = world.mark();
    world.sandbox.slack.outage = 503;
    await world.command("alice", "check");
    const answer = textOf(await world.privateMessage("alice", /ghconnect check/, since));
    world.sandbox.slack.outage = undefined;
    const slackHost = new URL(world.sandbox.slack.url).host;
    expect(answer).toContain(`❌ Slack (${slackHost}): ${slackHost} answered HTTP 503`);
    expect(answer).toContain("→ Slack may be having an incident (https://slack-status.com)");
    expect(answer).toContain(`❌ uploads (${blackHole.host}): no answer within 5 s (timeout)`);
    expect(answer).toMatch(/✅ GHES: 127\.0\.0\.1:\d+ answers/);
    // The admin channel cannot be read back either (the audit trail's witness), and says why.
    expect(answer).toContain(`❌ Audit witness: cannot read <#${SANDBOX_ADMIN_CHANNEL}>: ${slackHost} answered HTTP 503`);
    expect(answer).toContain("❌ 3 checks failed. Nothing was changed.");
  });
});
