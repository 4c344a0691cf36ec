// The links and codes of the GitHub part of the flow: single use, short-lived, bound to their
// operation; and what happens when admins collide, time runs out or the bot restarts.
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

const SETUP = /\/ghconnect\/github\/setup/;
const CALLBACK = /\/ghconnect\/github\/callback/;

describe.each(ENGINES)("enable links, codes and timing (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("a callback replayed with its state is refused the second time, and nothing changes", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const toCallback = await browser.browseUntil(link, CALLBACK);
    const first = await browser.browseUntil(toCallback.finalUrl, /\/installations\/new/);
    expect(first.finalUrl).toMatch(/\/apps\/.+\/installations\/new\?state=/);
    const replay = await browser.browse(toCallback.finalUrl);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain("This link was already used; each works once.");
  });

  it("a state that is missing, unknown, or belongs to another step is a 400 page", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const missing = await browser.browse(`${world.bot.url}/ghconnect/github/callback?code=abc`);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("must carry both `code` and `state`".replace(/`/g, ""));
    const unknown = await browser.browse(`${world.bot.url}/ghconnect/github/callback?code=abc&state=${"x".repeat(43)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("ghconnect did not issue this link");
    // The install step's state used at the callback: refused as a link for another step.
    const toInstall = await browser.browseUntil(link, /\/installations\/new/);
    const installState = new URL(toInstall.finalUrl).searchParams.get("state");
    const wrong = await browser.browse(`${world.bot.url}/ghconnect/github/callback?code=abc&state=${installState}`);
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("belongs to another step");
    const malformed = await browser.browse(`${world.bot.url}/ghconnect/github/callback?code=${encodeURIComponent("<script>")}&state=x`);
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain("malformed");
  });

  it("a state older than 60 minutes is refused as expired", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    world.sandbox.world.advance(61 * 60_000);
    const page = await world.browse("alice", link);
    expect(page.status).toBe(400);
    expect(page.text).toContain("This link expired");
  });

  it("already connected: says to what, since when and by whom", async () => {
    world = await startWorld(engine);
    await world.enable();
    await world.command("bob", "enable octo-inc");
    const reply = await world.privateMessage("bob", /already connected/);
    expect(textOf(reply)).toMatch(
      /already connected to acme since \d{4}-\d\d-\d\d \d\d:\d\d UTC, by <@U0ALICE001> \(GHES `alice`, github\.com `octocat`\)/,
    );
    expect(textOf(reply)).toContain("/ghconnect disable acme");
  });

  it("two admins enabling at once: one operation, the other is told who is ahead", async () => {
    world = await startWorld(engine);
    await Promise.all([world.command("alice", "enable acme"), world.command("bob", "enable acme")]);
    // Either may win the race; whoever lost is told the other one is ahead.
    const refused = await eventually(
      () =>
        (["alice", "bob"] as const).flatMap((user) =>
          world
            .privateTo(user)
            .filter((m) => /An enable of acme started by/.test(textOf(m)))
            .map((message) => ({ user, text: textOf(message) })),
        )[0],
    );
    const ahead = refused.user === "alice" ? "U0BOB00001" : "U0ALICE001";
    expect(refused.text).toMatch(new RegExp(`An enable of acme started by <@${ahead}> at .+ UTC is .+; it expires at .+ UTC\\.`));
    await world.card(/Accept addendum and continue/);
    const cards = world.channel().filter((m) => /Enable GitHub Connect → acme/.test(textOf(m)));
    expect(cards).toHaveLength(1);
  });

  it("only the requester can accept the addendum, and a double click accepts once", async () => {
    world = await startWorld(engine);
    await world.command("alice", "enable acme");
    const card = await world.card(/Accept addendum and continue/);
    await world.click("bob", card, "enable.accept");
    const refusal = await world.privateMessage("bob", /Only <@U0ALICE001>, who asked to enable acme, can accept/);
    expect(textOf(refusal)).toContain("Nothing was changed");
    await Promise.all([world.click("alice", card, "enable.accept"), world.click("alice", card, "enable.accept")]);
    await world.privateMessage("alice", /Continue on GitHub/);
    await world.privateMessage("alice", /already accepted/);
    const accepted = [];
    for await (const e of world.bot.bot.store.audit.all())
      if (e.action === "enable.addendum_accepted" && e.outcome === "ok") accepted.push(e);
    expect(accepted).toHaveLength(1);
  });

  it("an addendum not accepted in time expires: the card says so and a new enable can start", async () => {
    world = await startWorld(engine);
    await world.command("alice", "enable acme");
    // The card as alice still sees it on her screen when she clicks after it expired.
    const card = structuredClone(await world.card(/Accept addendum and continue/));
    world.sandbox.world.advance(16 * 60_000);
    expect(await world.bot.bot.enable.expireStale()).toBe(1);
    const expired = await world.card(/Expired/);
    expect(textOf(expired)).not.toContain("Accept addendum");
    await world.click("alice", card, "enable.accept");
    await world.privateMessage("alice", /expired/);
    await world.command("alice", "enable acme");
    await eventually(async () => (await world.bot.bot.store.operations.inFlight())?.status === "awaiting_addendum");
  });

  it("cancel ends the operation and drops its link", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const card = await world.card(/Waiting for .* to create the GitHub App/);
    await world.click("bob", card, "enable.cancel");
    await world.card(/Cancelled by <@U0BOB00001>/);
    const page = await world.browse("alice", link);
    expect(page.status).toBe(400);
  });

  it("the bot restarting between the callback and the setup still completes the flow", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const atSetup = await browser.browseUntil(link, SETUP);
    await world.restartBot();
    const page = await browser.browse(atSetup.finalUrl);
    expect(page.text).toContain("Connected acme");
    expect((await world.bot.bot.store.connections.active())?.connectedBy.github).toBe("octocat");
  });

  it("the installation token is refreshed after 56 minutes, with no GitHub call while it is fresh", async () => {
    world = await startWorld(engine);
    await world.enable();
    const before = (await world.bot.bot.store.connections.active())!;
    const api = world.sandbox.routers.api.received;
    const calls = api.length;
    expect(await world.bot.bot.tokens.refreshIfDue()).toBe("fresh");
    await world.bot.bot.tokens.current();
    expect(api.length).toBe(calls);

    world.sandbox.world.advance(56 * 60_000);
    expect(await world.bot.bot.tokens.refreshIfDue()).toBe("refreshed");
    const after = (await world.bot.bot.store.connections.active())!;
    expect(Date.parse(after.tokenExpiresAt!)).toBeGreaterThan(Date.parse(before.tokenExpiresAt!));
    // Exactly one new token was minted (auth-app may retry its JWT once to correct clock skew).
    expect(world.sandbox.world.tokens.filter((t) => Date.parse(after.tokenExpiresAt!) === t.expiresAt)).toHaveLength(1);
    expect(world.sandbox.world.tokens).toHaveLength(2);
    const { token } = await world.bot.bot.tokens.current();
    expect(world.sandbox.world.tokens.at(-1)?.token).toBe(token);
  });

  it("a failing refresh is posted to the admin channel once, not every minute", async () => {
    world = await startWorld(engine);
    await world.enable();
    world.sandbox.world.advance(56 * 60_000);
    world.sandbox.world.inject({ host: "api", status: 503, pathIncludes: "/access_tokens", times: 9 });
    expect(await world.bot.bot.tokens.refreshIfDue()).toBe("failed");
    world.sandbox.world.advance(60_000); // the next minute's refresh
    expect(await world.bot.bot.tokens.refreshIfDue()).toBe("failed");
    const warnings = world.channel().filter((m) => /Could not refresh the installation token for acme/.test(textOf(m)));
    expect(warnings).toHaveLength(1);
    expect(textOf(warnings[0]!)).toContain("answered 503");
    world.sandbox.world.clearFaults();
    world.sandbox.world.advance(60_000);
    expect(await world.bot.bot.tokens.refreshIfDue()).toBe("refreshed");
  });
});
