// The pages GitHub sends the browser back to act only with the flow's own state: anyone can send
// the setup URL, a code GitHub refuses says nothing about the installer, and a completion that
// dies keeps enabling blocked for its short lease only, as the admins, the installer and the
// auditor see it.
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { capturedLog, startWorld, textOf, type World } from "../helpers/world.js";

const SETUP = /\/ghconnect\/github\/setup/;
const CALLBACK = /\/ghconnect\/github\/callback/;
const ON_GITHUB = /Waiting for .* to create the GitHub App/;
const INSTALLING = /Waiting for it to be installed and authorized/;

/** A GitHub that stops answering a request until the test lets it go. */
function hold(): { until: Promise<void>; release: () => void } {
  let release = () => {};
  const until = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { until, release };
}

describe.each(ENGINES)("enable: the return from GitHub (%s)", (engine) => {
  let world: World;
  let released: (() => void) | undefined;
  afterEach(async () => {
    released?.();
    released = undefined;
    await world?.close();
  });

  it("a setup request without the flow's state changes nothing, is audited as refused, and the real installation still completes", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const atSetup = await browser.browseUntil(link, SETUP);
    const card = await world.card(INSTALLING);
    const cardBefore = { text: textOf(card), updates: card.updates };
    const credentialsBefore = await world.credentialCount();
    expect(credentialsBefore).toBe(3);

    // Anyone who can reach the bot, with a junk code and no state; then with a made-up state.
    const spoofed = await fetch(`${world.bot.url}/ghconnect/github/setup?code=junk&installation_id=1&setup_action=install`);
    const spoofedText = await spoofed.text();
    expect(spoofed.status).toBe(400);
    expect(spoofedText).toContain("This page needs the link GitHub returns after installing the app");
    expect(spoofedText).toContain("Nothing was changed.");
    expect(spoofedText).not.toContain("Slack has the details");
    expect(spoofedText).toContain("/ghconnect status there shows where things stand");
    const forged = await world.browse(
      "mallory",
      `${world.bot.url}/ghconnect/github/setup?code=junk&installation_id=1&setup_action=install&state=${"x".repeat(43)}`,
    );
    expect(forged.status).toBe(400);
    expect(forged.text).toContain("ghconnect did not issue this link");

    // The enable still waits, its card as it was, its credentials kept.
    const op = await world.bot.bot.store.operations.inFlight();
    expect(op?.status).toBe("awaiting_install");
    expect({ text: textOf(card), updates: card.updates }).toEqual(cardBefore);
    expect(await world.credentialCount()).toBe(credentialsBefore);
    const entries = await world.auditSince();
    const refusals = entries.filter((e) => e.action === "enable.setup_refused");
    expect(refusals.map((e) => [e.outcome, e.details.refusal, e.details.reason])).toEqual([
      ["refused", "no_valid_state", "no state"],
      ["refused", "no_valid_state", "unknown state"],
    ]);
    expect(entries.map((e) => e.action)).not.toContain("enable.installed");
    expect(JSON.stringify(entries)).not.toContain("junk");

    // The installer's own return completes.
    const page = await browser.browse(atSetup.finalUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Connected acme");
    // Said once, in the footer, not again in the message above it.
    expect(page.text.split("Slack has the details").length - 1).toBe(1);
    expect((await world.bot.bot.store.connections.active())?.connectedBy.github).toBe("octocat");
  });

  it("a code GitHub refuses leaves the enable waiting; the page says how to retry, and retrying connects", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const atSetup = await browser.browseUntil(link, SETUP);
    const installingText = textOf(await world.card(INSTALLING));
    const tampered = new URL(atSetup.finalUrl);
    tampered.searchParams.set("code", "0123456789abcdef0123");

    const refused = await browser.browse(tampered.toString());
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("GitHub refused the authorization");
    expect(refused.text).toContain("bad_verification_code");
    expect(refused.text).toContain("the enable of acme still waits for its installation");
    const app = world.sandbox.world.apps.at(-1)!;
    const retry = /<a class="button" href="([^"]+)">Install again on GitHub<\/a>/.exec(refused.html)?.[1]?.replace(/&#38;/g, "&");
    expect(retry).toContain(`/apps/${app.slug}/installations/new?state=`);

    // Nothing failed: same operation, waiting, credentials kept, the card back where it was.
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_install");
    expect(await world.credentialCount()).toBe(3);
    expect(textOf(await world.card(INSTALLING))).toBe(installingText);
    const entries = await world.auditSince();
    expect(entries.find((e) => e.action === "enable.setup_refused")).toMatchObject({
      outcome: "refused",
      details: { refusal: "authorization_refused", reason: expect.stringContaining("bad_verification_code") },
    });
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).not.toContain("enable.installed:failed");
    // The admins see it in the card's thread.
    const card = await world.card(INSTALLING);
    await eventually(() =>
      world.sandbox.slack.messages.find((m) => m.threadTs === card.ts && /GitHub refused an authorization code/.test(textOf(m))),
    );

    // Following the page's advice: install again, GitHub sends a fresh code, the enable completes.
    const page = await browser.browse(retry as string);
    expect(page.text).toContain("Connected acme");
    expect(await world.bot.bot.store.connections.active()).toMatchObject({ org: "acme", appSlug: app.slug });
  });

  it("a setup, callback or manifest request with a malformed parameter (not URL-token characters, over 512 characters, repeated) is a 400 audited as refused", async () => {
    world = await startWorld(engine);
    await world.enableUntilGitHub();
    const before = (await world.auditSince()).length;
    const malformed = [
      `/ghconnect/github/setup?code=junk&installation_id=1&state=${encodeURIComponent("<x>")}`,
      `/ghconnect/github/callback?code=junk&state=${"a".repeat(513)}`,
      "/ghconnect/manifest?state=abc&state=def",
    ];
    for (const path of malformed) {
      // A state GitHub never carries: the page says 400, nothing changes…
      const response = await fetch(`${world.bot.url}${path}`);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("Nothing was changed");
    }
    // …and each refusal is on the audit trail, as for a well-formed forged state.
    await world.bot.bot.enable.flushRefusals();
    const refused = (await world.auditSince()).slice(before).filter((e) => e.action.endsWith("_refused"));
    expect(refused.map((e) => [e.action, e.details.refusal, e.details.reason]).sort()).toEqual([
      ["enable.callback_refused", "malformed", "state is longer than 512 characters"],
      ["enable.manifest_refused", "malformed", "state appears more than once"],
      ["enable.setup_refused", "malformed", "state holds characters outside the URL-token alphabet"],
    ]);
    expect(JSON.stringify(refused)).not.toContain("<x>");
  });

  it("setup_action=update (an owner edited the installation later) gets a friendly nothing-to-do page and changes nothing", async () => {
    world = await startWorld(engine);
    await world.enable();
    const connection = await world.bot.bot.store.connections.active();
    const audited = (await world.auditSince()).length;
    const page = await world.browse(
      "alice",
      `${world.bot.url}/ghconnect/github/setup?installation_id=${connection?.installationId}&setup_action=update`,
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain("Nothing to do");
    expect(page.text).toContain("the app's installation was changed. ghconnect needs nothing for that, and nothing was changed.");
    expect(page.html).not.toContain("border-top:4px solid #cf222e"); // not the red error page
    expect(await world.bot.bot.store.connections.active()).toEqual(connection);
    expect((await world.auditSince()).length).toBe(audited);
  });

  it("the callback and the manifest page without the flow's state change nothing; the real flow then completes", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const card = await world.card(/Waiting for .* to create the GitHub App/);
    const cardBefore = { text: textOf(card), updates: card.updates };
    const forged = "y".repeat(43);
    for (const path of [
      "/ghconnect/github/callback?code=junk",
      `/ghconnect/github/callback?code=junk&state=${forged}`,
      "/ghconnect/manifest",
      `/ghconnect/manifest?state=${forged}`,
    ]) {
      const response = await fetch(`${world.bot.url}${path}`);
      expect(response.status, path).toBe(400);
      expect(await response.text(), path).toContain("Nothing was changed");
    }
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    expect({ text: textOf(card), updates: card.updates }).toEqual(cardBefore);
    expect(world.sandbox.world.apps).toHaveLength(0);
    // Each refusal is audited by its page and reason, never with the code or the state.
    const refused = (await world.auditSince()).filter((e) => e.outcome === "refused");
    expect(refused.map((e) => [e.action, e.details.reason, e.details.count])).toEqual([
      ["enable.callback_refused", "no state", 1],
      ["enable.callback_refused", "unknown state", 1],
      ["enable.manifest_refused", "no state", 1],
      ["enable.manifest_refused", "unknown state", 1],
    ]);
    expect(JSON.stringify(refused)).not.toContain(forged);
    const page = await world.browse("alice", link);
    expect(page.text).toContain("Connected acme");
  });

  it("a manifest code GitHub refuses leaves the enable waiting for GitHub, its card unchanged; the page's advice then creates the app", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const card = await world.card(ON_GITHUB);
    const cardBefore = { text: textOf(card), updates: card.updates };
    const browser = await world.bot.browser("alice");
    const toCallback = await browser.browseUntil(link, CALLBACK);
    const code = new URL(toCallback.finalUrl).searchParams.get("code") as string;
    // Someone converts the code first (GitHub's codes work once), then the browser arrives with it.
    expect((await fetch(`${world.sandbox.urls.api}/app-manifests/${code}/conversions`, { method: "POST" })).status).toBe(201);

    const refused = await browser.browse(toCallback.finalUrl);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("GitHub refused the app's creation code");
    expect(refused.text).toContain("it has expired (codes last one hour) or was already used.");
    expect(refused.text).toContain("Nothing was changed: the enable of acme still waits for GitHub, until");
    expect(refused.text).toContain('Go back to the "Continue on GitHub" link ghconnect sent you in Slack (it works until then)');
    expect(refused.text).toContain("If GitHub says the name is already taken, first delete the app it created at");

    // Nothing failed: the same operation waits, its card as it was, no credentials kept.
    const op = await world.bot.bot.store.operations.inFlight();
    expect(op?.status).toBe("awaiting_github");
    expect({ text: textOf(card), updates: card.updates }).toEqual(cardBefore);
    expect(await world.credentialCount()).toBe(0);
    const entries = await world.auditSince();
    expect(entries.filter((e) => e.action === "enable.callback_refused")).toEqual([
      expect.objectContaining({
        outcome: "refused",
        target: "acme",
        details: expect.objectContaining({ refusal: "code_refused", operation: op?.id, count: 1 }),
      }),
    ]);
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).not.toContain("enable.app_created:failed");
    expect(JSON.stringify(entries)).not.toContain(code);

    // Following the page: the app GitHub created holds the name, so delete it, then the Slack link works.
    const app = world.sandbox.world.apps.at(-1)!;
    await browser.browse(`${world.sandbox.urls.web}/organizations/acme/settings/apps/${app.slug}`);
    expect(app.deleted).toBe(true);
    const page = await browser.browse(link);
    expect(page.text).toContain("Connected acme");
    expect(await world.bot.bot.store.connections.active()).toMatchObject({ org: "acme", appSlug: world.sandbox.world.apps.at(-1)!.slug });
  });

  it("a made-up manifest code with the flow's state changes nothing, and the real code then completes", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const toCallback = await browser.browseUntil(link, CALLBACK);
    const tampered = new URL(toCallback.finalUrl);
    tampered.searchParams.set("code", "0123456789abcdef0123");
    const refused = await browser.browse(tampered.toString());
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("GitHub refused the app's creation code");
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    expect(JSON.stringify(await world.auditSince())).not.toContain("0123456789abcdef0123");

    const page = await browser.browse(toCallback.finalUrl);
    expect(page.text).toContain("Connected acme");
  });

  it("GitHub failing while converting the manifest code fails nothing: the page says to reload, and reloading keeps the app", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const toCallback = await browser.browseUntil(link, CALLBACK);
    // GitHub answers 502 to the conversion and to its retries.
    world.sandbox.world.inject({ host: "api", status: 502, pathIncludes: "/conversions", times: 3 });
    const failed = await browser.browse(toCallback.finalUrl);
    expect(failed.status).toBe(502);
    expect(failed.text).toContain("GitHub could not convert the app's creation code");
    expect(failed.text).toContain("Nothing was changed: the enable of acme still waits for GitHub");
    expect(failed.text).toContain("Reload this page in a minute: the code works for an hour.");
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    expect((await world.auditSince()).find((e) => e.action === "enable.callback_refused")?.details).toMatchObject({
      refusal: "code_unverified",
      count: 1,
    });

    const reloaded = await browser.browse(toCallback.finalUrl);
    expect(reloaded.text).toContain("Connected acme");
  });

  it("two deliveries of the same manifest code at once keep the app's credentials once; the second is told the step is done", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const toCallback = await browser.browseUntil(link, CALLBACK);
    // Both deliveries get past the state check and reach GitHub before either answer comes back.
    const first = hold();
    const second = hold();
    released = () => {
      first.release();
      second.release();
    };
    world.sandbox.world.inject({ host: "api", pathIncludes: "/conversions", until: first.until });
    world.sandbox.world.inject({ host: "api", pathIncludes: "/conversions", until: second.until });
    const deliver = () =>
      fetch(toCallback.finalUrl, { redirect: "manual" }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const deliveries = [deliver(), deliver()];
    await eventually(() => world.sandbox.world.faults.every((f) => f.remaining === 0));
    first.release();
    const kept = await Promise.race(deliveries);
    expect(kept.status).toBe(302);
    second.release();
    const answers = await Promise.all(deliveries);
    const other = answers.find((a) => a !== kept) as { status: number; text: string };
    expect(other.status).toBe(409);
    expect(other.text).toContain("This step is done: the app was created on GitHub and its credentials kept");

    expect(await world.credentialCount()).toBe(3);
    const entries = await world.auditSince();
    expect(entries.filter((e) => e.action === "enable.app_created")).toHaveLength(1);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_install");
  });

  it("50 forged requests to the setup page are audited as one entry a minute whose counts add up to 50; the rest is logged at info", async () => {
    const { log, lines: logs } = capturedLog("info");
    world = await startWorld(engine, { sweepEveryMs: 25, log });
    const forge = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () =>
          fetch(`${world.bot.url}/ghconnect/github/setup?code=junk&installation_id=1&setup_action=install`).then((r) => r.status),
        ),
      );
    const refusals = async () => (await world.auditSince()).filter((e) => e.action === "enable.setup_refused");

    expect(await forge(30)).toEqual(Array(30).fill(400));
    expect((await refusals()).map((e) => e.details.count)).toEqual([1]);
    // A minute later the app's sweep audits the 29 only counted so far…
    world.sandbox.world.advance(61_000);
    await eventually(async () => (await refusals()).length === 2);
    // …and the next 20, within a minute of that entry, are counted again, then audited a minute on.
    expect(await forge(20)).toEqual(Array(20).fill(400));
    expect((await refusals()).map((e) => e.details.count)).toEqual([1, 29]);
    world.sandbox.world.advance(61_000);
    await eventually(async () => (await refusals()).length === 3);

    const entries = await refusals();
    expect(entries.map((e) => [e.outcome, e.details.refusal, e.details.reason, e.details.count])).toEqual([
      ["refused", "no_valid_state", "no state", 1],
      ["refused", "no_valid_state", "no state", 29],
      ["refused", "no_valid_state", "no state", 20],
    ]);
    expect(entries.every((e) => typeof e.details.first_refused_at === "string")).toBe(true);
    expect(logs.filter((l) => l.includes("refused request counted toward the next audit entry of its kind"))).toHaveLength(49);
    expect(logs.join("")).not.toContain("junk");
  });

  it("an enable killed while completing is ended by the app's sweep once its lease runs out: the card says so, nothing is stored, enabling works again", async () => {
    world = await startWorld(engine, { sweepEveryMs: 25 });
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const atSetup = await browser.browseUntil(link, SETUP);
    const app = world.sandbox.world.apps.at(-1)!;
    // The replica completing it stops while GitHub mints the installation token…
    const github = hold();
    released = github.release;
    world.sandbox.world.inject({ host: "api", pathIncludes: "/access_tokens", until: github.until });
    const pending = browser.browse(atSetup.finalUrl).catch((error: Error) => error);
    const completing = await world.card(/Back from GitHub: verifying the installer/);
    expect(textOf(completing)).not.toContain("Cancel");
    await world.restartBot();
    // …and meanwhile enabling is blocked for the lease only, not the operation's hour.
    await world.command("bob", "enable acme");
    await world.privateMessage("bob", /is finishing; it expires at/);

    world.sandbox.world.advance(3 * 60_000);
    const card = await world.card(/Interrupted while completing/);
    expect(textOf(card)).toContain("Nothing was stored: no connection, and the app's credentials were deleted.");
    expect(textOf(card)).toContain(`/organizations/acme/settings/apps/${app.slug}`);
    expect(textOf(card)).toContain("/ghconnect enable acme");
    await world.privateMessage("alice", /Your enable of acme was interrupted/);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await world.credentialCount()).toBe(0);
    expect((await world.auditSince()).find((e) => e.action === "enable.interrupted")).toMatchObject({
      outcome: "failed",
      details: { credentials_deleted: 3 },
    });

    // The way forward works at once.
    const since = world.mark();
    await world.command("alice", "enable acme");
    await world.card(/Accept addendum and continue/, since);
    github.release();
    await pending;
  });

  it("Cancel ends a completion whose lease ran out, and its late answer stores nothing", async () => {
    // The sweep is kept out of the way: Cancel alone must do it.
    world = await startWorld(engine, { sweepEveryMs: 3_600_000 });
    const link = await world.enableUntilGitHub();
    const browser = await world.bot.browser("alice");
    const atSetup = await browser.browseUntil(link, SETUP);
    // The card as it still shows on an admin's screen, with its Cancel button.
    const installing = structuredClone(await world.card(INSTALLING));
    const github = hold();
    released = github.release;
    world.sandbox.world.inject({ host: "api", pathIncludes: "/access_tokens", until: github.until });
    const pending = browser.browse(atSetup.finalUrl);
    await world.card(/Back from GitHub: verifying the installer/);

    let since = world.mark();
    await world.click("bob", installing, "enable.cancel");
    await world.privateMessage("bob", /is completing right now; if it has not finished by .+ UTC, it can be cancelled then/, since);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("completing");

    world.sandbox.world.advance(3 * 60_000);
    since = world.mark();
    await world.click("bob", installing, "enable.cancel");
    await world.card(/Cancelled by <@U0BOB00001>/);
    await world.privateMessage("bob", /Cancelled the enable of acme/, since);
    expect(await world.credentialCount()).toBe(0);

    // GitHub answers at last: the token is minted there, but nothing is stored here.
    github.release();
    const page = await pending;
    expect(page.status).toBe(409);
    expect(page.text).toContain("This completion came too late (the operation was ended meanwhile), so nothing was stored.");
    expect(world.sandbox.world.tokens).toHaveLength(1);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await world.credentialCount()).toBe(0);
    expect((await world.auditSince()).map((e) => `${e.action}:${e.outcome}`)).not.toContain("enable.connected:ok");
  });

  it("the connected page says Slack has the details only when Slack was told", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    // An admin deleted the card, and the requester's response_url has expired.
    world.sandbox.slack.fail("chat.update", "message_not_found", 10);
    world.sandbox.slack.fail("response_url", "expired_url", 10);
    const page = await world.browse("alice", link);
    expect(page.text).toContain("Connected acme");
    expect(page.text).not.toContain("Slack has the details");
    expect(page.text).toContain("Slack could not be told just now; /ghconnect status in Slack shows the connection.");
    expect(await world.bot.bot.store.connections.active()).toMatchObject({ org: "acme" });
  });
});
