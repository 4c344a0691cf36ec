// People prove who they are: `/ghconnect link` gives single-use, 10-minute sign-in links for GHES
// (the GHES OAuth app) and github.com (the connected app's user authorization); tokens are sealed,
// refreshed before they expire, revoked on unlink and on disconnect. Bad input and faults each
// get their own message and audit entry, and store nothing.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { pageText, SandboxBrowser } from "../../src/sandbox/browser.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("linking accounts (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("link privately gives a GHES sign-in that proves the login; whoami shows it; the link works once", async () => {
    world = await startWorld(engine);
    const seq = await world.lastSeq();
    const channelBefore = world.channel().length;
    const since = world.mark();
    await world.command("mallory", "link");
    const reply = await world.privateMessage("mallory", /Prove who you are/, since);
    expect(textOf(reply)).toContain("Each link works once and until");
    expect(textOf(reply)).toContain("github.com: this server is not connected");
    const url = world.linkIn(reply, /Sign in to GHES/);
    expect(world.channel().slice(channelBefore).map(textOf).join("\n")).not.toContain("Sign in");

    const page = await world.browse("mallory", url);
    expect(page.status).toBe(200);
    expect(page.text).toContain("You are dave on GHES.");

    const again = await world.browse("mallory", url);
    expect(again.status).toBe(400);
    expect(again.text).toContain("This sign-in link was already used; each link works once. Nothing was linked.");

    const who = await world.ask("mallory", "whoami", /linked/);
    expect(who).toMatch(/GHES: `dave`, linked \d{4}-\d\d-\d\d/);
    expect(who).toContain("github.com: not linked — `/ghconnect link`");
    expect(who).toContain("Admin roster: not an admin.");

    const audited = (await world.auditSince(seq)).filter((e) => e.action.startsWith("link."));
    expect(audited.map((e) => [e.action, e.actor_slack, e.target, e.outcome, e.details])).toEqual([
      ["link.linked", SANDBOX_USERS.mallory.slack, "ghes", "ok", { login: "dave", ghes_user_id: 14 }],
      [
        "link.refused",
        SANDBOX_USERS.mallory.slack,
        "ghes",
        "refused",
        { reason: "link used", person: SANDBOX_USERS.mallory.slack, count: 1, first_refused_at: expect.any(String) },
      ],
    ]);
    // Sealed at rest: the token GHES issued is nowhere in the row.
    const rows = await sql<{ token_ciphertext: string }>`select token_ciphertext from person_links`.execute(world.testDb.db.kysely);
    const issued = [...world.sandbox.world.ghesUserTokens.keys()];
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.token_ciphertext.startsWith("v2:")).toBe(true);
    for (const token of issued) expect(rows.rows[0]?.token_ciphertext).not.toContain(token);
  });

  it("an expired link is refused with its reason, audited, and links nothing", async () => {
    world = await startWorld(engine);
    const since = world.mark();
    await world.command("mallory", "link");
    const url = world.linkIn(await world.privateMessage("mallory", /Prove who you are/, since), /Sign in to GHES/);
    world.sandbox.world.advance(11 * 60_000);
    const seq = await world.lastSeq();
    const page = await world.browse("mallory", url);
    expect(page.status).toBe(400);
    expect(page.text).toContain("This sign-in link has expired; links last 10 minutes. Nothing was linked.");
    expect(await world.bot.bot.store.links.all(SANDBOX_USERS.mallory.slack)).toEqual([]);
    expect((await world.auditSince(seq)).map((e) => [e.action, e.details])).toEqual([
      ["link.refused", { reason: "link expired", person: SANDBOX_USERS.mallory.slack, count: 1, first_refused_at: expect.any(String) }],
    ]);
  });

  it("unlink revokes the GHES token and forgets it; unlinking what is not linked is refused and audited", async () => {
    world = await startWorld(engine);
    await world.link("mallory", "ghes");
    const [token] = [...world.sandbox.world.ghesUserTokens.entries()].find(([, t]) => t.login === "dave") ?? [];
    expect(world.sandbox.world.ghesUserTokens.get(token as string)?.revoked).toBe(false);
    const text = await world.ask("mallory", "unlink", /Unlinked|nothing to unlink/);
    expect(text).toContain("Unlinked GHES (`dave`); its token is revoked.");
    expect(world.sandbox.world.ghesUserTokens.get(token as string)?.revoked).toBe(true);
    const seq = await world.lastSeq();
    const again = await world.ask("mallory", "unlink ghes", /Unlinked|nothing to unlink/);
    expect(again).toContain("Your GHES account is not linked, so there is nothing to unlink.");
    expect((await world.auditSince(seq)).map((e) => [e.action, e.outcome, (e.details as { reason?: string }).reason])).toEqual([
      ["command.unlink", "refused", "Your GHES account is not linked, so there is nothing to unlink."],
    ]);
  });

  it("unlink says what happens to the person's admin roster entry: pending only for a command-added entry whose GHES side went", async () => {
    world = await startWorld(engine);
    await world.enable();
    // No entry: no roster sentence at all.
    await world.link("mallory", "ghes");
    const none = await world.ask("mallory", "unlink", /Unlinked|nothing to unlink/);
    expect(none).toContain("Search skips an unlinked side.");
    expect(none).not.toContain("admin");

    // A GHCONNECT_ADMINS entry is trusted configuration: it stays active whatever is unlinked.
    await world.link("carol", "ghes");
    await world.link("carol", "github");
    const trusted = await world.ask("carol", "unlink", /Unlinked|nothing to unlink/);
    expect(trusted).toContain("Your admin roster entry comes from GHCONNECT_ADMINS and stays active.");
    expect(trusted).not.toContain("pending");

    // A command-added entry, proven by linking GHES: unlinking github.com leaves it active; unlinking GHES makes it pending.
    const dave = world.sandbox.world.ghesUsers.find((u) => u.login === "dave");
    if (dave) dave.site_admin = true;
    expect(await world.ask("alice", `admins add <@${SANDBOX_USERS.mallory.slack}> dave`, /Added <@|admin roster/)).toContain("Added <@");
    await world.link("mallory", "ghes");
    await world.link("mallory", "github");
    const github = await world.ask("mallory", "unlink github", /Unlinked|nothing to unlink/);
    expect(github).toContain("Your admin roster entry stays active: GHES stays linked as `dave`.");
    expect(github).not.toContain("pending");
    const ghes = await world.ask("mallory", "unlink ghes", /Unlinked|nothing to unlink/);
    expect(ghes).toContain("Your admin roster entry (GHES `dave`) is pending until you link GHES as `dave` again.");
  });

  it("the github.com side is the connected app's authorization: tokens are refreshed before they expire; a refused refresh expires the link and tells the person", async () => {
    world = await startWorld(engine);
    await world.enable();
    const page = await world.link("carol", "github");
    expect(page.text).toContain("You are monalisa on github.com.");
    const { world: gh } = world.sandbox;
    const first = await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github");
    // GitHub answers expires_in (8 hours); oauth-app dates it from the response's Date header (whole seconds).
    const hoursLeft = (expiresAt?: string) => Math.round((Date.parse(expiresAt ?? "") - gh.now()) / 60_000) / 60;
    expect(hoursLeft(first?.expiresAt)).toBe(8);

    // 7 h 45 min later the app's refresh duty renews it (grant_type=refresh_token): the old token stops working.
    gh.advance(7.75 * 3_600_000);
    const seq = await world.lastSeq();
    expect(await world.bot.bot.links.refreshDue()).toBe(1);
    const second = await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github");
    expect(second?.token).not.toBe(first?.token);
    expect(gh.userTokens.get(first?.token as string)?.revoked).toBe(true);
    expect(hoursLeft(second?.expiresAt)).toBe(8);
    expect((await world.auditSince(seq)).map((e) => [e.action, e.target, e.details])).toEqual([
      ["link.refreshed", "github", { person: SANDBOX_USERS.carol.slack, login: "monalisa", expires_at: second?.expiresAt }],
    ]);

    // GitHub refuses the next refresh (the refresh token was revoked): the link expires, the person is told.
    for (const entry of gh.refreshTokens.values()) entry.used = true;
    gh.advance(7.75 * 3_600_000);
    const seq2 = await world.lastSeq();
    expect(await world.bot.bot.links.refreshDue()).toBe(0);
    const dm = await eventually(() =>
      world.sandbox.slack.messages.find((m) => m.channel === SANDBOX_USERS.carol.slack && /refused to refresh/.test(textOf(m))),
    );
    expect(textOf(dm)).toContain("GitHub refused to refresh your github.com link (`monalisa`, bad_refresh_token), so it has expired.");
    expect((await world.auditSince(seq2)).map((e) => [e.action, e.outcome, e.details])).toEqual([
      ["link.expired", "failed", { person: SANDBOX_USERS.carol.slack, login: "monalisa", reason: "bad_refresh_token" }],
    ]);
    const who = await world.ask("carol", "whoami", /linked/);
    expect(who).toContain("github.com: `monalisa`");
    expect(who).toContain("expired: GitHub refused to refresh it; run `/ghconnect link` again");
  });

  it("search refreshes a github.com token about to expire before using it; GitHub failing that refresh fails that side only and keeps the link", async () => {
    world = await startWorld(engine);
    await world.readyToSearch("carol");
    const { world: gh } = world.sandbox;
    const before = await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github");
    gh.advance(7.75 * 3_600_000);
    const seq = await world.lastSeq();
    const refreshed = await world.ask("carol", "search flaky", /Search:/);
    expect(refreshed).toContain("GHES: 2 · acme on GitHub: 2 · showing 4");
    const after = await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github");
    expect(after?.token).not.toBe(before?.token);
    expect(gh.userTokens.get(before?.token as string)?.revoked).toBe(true);
    expect((await world.auditSince(seq)).map((e) => e.action)).toEqual(["link.refreshed", "command.search"]);

    gh.advance(7.75 * 3_600_000);
    gh.inject({ host: "web", status: 503, pathIncludes: "/login/oauth/access_token", times: 5 });
    const failing = await world.ask("carol", "search flaky", /Search:/);
    expect(failing).toMatch(/⚠️ GitHub \(acme\) failed: Refreshing a github\.com user token: 127\.0\.0\.1:\d+ answered 503/);
    expect(failing).toContain("GHES: 2 · acme on GitHub: failed · showing 2");
    expect((await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github"))?.status).toBe("active");
  });

  it("unlink github revokes the connected app's user token on github.com (DELETE /applications/{client_id}/token)", async () => {
    world = await startWorld(engine);
    await world.enable();
    await world.link("carol", "github");
    const token = (await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github"))?.token as string;
    // (The enable before revoked the installer's token: only what unlink asks counts here.)
    const before = world.sandbox.routers.api.received.length;
    const text = await world.ask("carol", "unlink github", /Unlinked|nothing to unlink/);
    expect(text).toContain("Unlinked github.com (`monalisa`); its token is revoked.");
    expect(world.sandbox.world.userTokens.get(token)?.revoked).toBe(true);
    const revokes = world.sandbox.routers.api.received
      .slice(before)
      .filter((r) => r.method === "DELETE" && r.path.startsWith("/applications/"));
    expect(revokes).toHaveLength(1);
    expect(await world.bot.bot.store.links.all(SANDBOX_USERS.carol.slack)).toEqual([]);
  });

  it("a disconnect revokes the github.com user tokens the app issued before deleting its credentials", async () => {
    world = await startWorld(engine);
    await world.enable();
    await world.link("carol", "github");
    const token = (await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github"))?.token as string;
    const since = world.mark();
    await world.command("alice", "disable acme");
    const card = await world.card(/Disconnect/, since);
    await world.click("alice", card, "disable.approve");
    const done = await eventually(async () => (await world.bot.bot.store.audit.latest(20)).find((e) => e.action === "disable.done"));
    expect(done.details).toMatchObject({ linked_accounts_revoked: 1, linked_accounts_revoke_failed: 0 });
    expect(world.sandbox.world.userTokens.get(token)?.revoked).toBe(true);
    expect(await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "github")).toBeUndefined();
  });

  it("two Slack users racing to link the same GHES login: one is linked, the other gets 409 Already linked, audited, its fresh token revoked", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${SANDBOX_USERS.bob.slack}:bob` } });
    const linkUrl = async (user: "mallory" | "carol") => {
      const since = world.mark();
      await world.command(user, "link");
      return world.linkIn(await world.privateMessage(user, /Prove who you are/, since), /Sign in to GHES/);
    };
    const [first, second] = [await linkUrl("mallory"), await linkUrl("carol")];
    // Both sign-ins are completed by the same GHES login (alice's browser) at the same moment.
    const pages = await Promise.all([world.browse("alice", first), world.browse("alice", second)]);
    // Today the loser passes the ownerOf check, hits the unique index in the transaction and gets
    // a 500 "Something went wrong" page; its refusal is not audited and its GHES token stays live.
    expect(pages.map((p) => p.status).sort()).toEqual([200, 409]);
    const aliceTokens = [...world.sandbox.world.ghesUserTokens.values()].filter((t) => t.login === "alice");
    expect(aliceTokens.map((t) => t.revoked).sort()).toEqual([false, true]);
    const refused = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "link.refused");
    expect(refused).toHaveLength(1);
  });

  it("forged requests to the link callbacks are coalesced on the audit trail: one link.refused entry per side and reason a minute, the rest counted", async () => {
    world = await startWorld(engine);
    const before = (await world.bot.bot.store.audit.latest(1))[0]?.seq ?? 0;
    // Anyone on the internet: no state, a forged state, twenty times each side.
    const hits = [];
    for (let i = 0; i < 20; i++) {
      hits.push(fetch(`${world.bot.url}/ghconnect/link/ghes/callback?code=x&state=forged${i}`));
      hits.push(fetch(`${world.bot.url}/ghconnect/link/github/callback`));
    }
    const answers = await Promise.all(hits);
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(400));
    // Today: 40 link.refused entries, one per request (the enable pages' RefusalLog keeps at most
    // one entry per page and reason a minute, with a count).
    const entries = (await world.bot.bot.store.audit.latest(100)).filter((e) => e.seq > before && e.action === "link.refused");
    // One entry per side and reason for the minute (the first refusal's); the other 19 of each
    // are counted toward the next entry of their kind.
    expect(entries.map((e) => [e.target, e.details.reason, e.details.count]).sort()).toEqual([
      ["ghes", "link unknown", 1],
      ["github", "link missing", 1],
    ]);
  });

  it("a malformed request to a link callback (a repeated state) is refused with 400 and counted on the audit trail", async () => {
    world = await startWorld(engine);
    const answer = await fetch(`${world.bot.url}/ghconnect/link/ghes/callback?code=x&state=a&state=b`);
    expect(answer.status).toBe(400);
    const entries = (await world.bot.bot.store.audit.latest(20)).filter((e) => e.action === "link.refused");
    expect(entries.map((e) => [e.target, e.details.count])).toEqual([["ghes", 1]]);
    expect(String(entries[0]?.details.reason)).toContain("malformed");
  });

  /** A person's browser (signed in to GHES and github.com) that shows pages without submitting their forms. */
  async function lookingBrowser(user: "alice" | "mallory") {
    const browser = new SandboxBrowser({ fetch: world.sandbox.fetch, submitForms: false });
    await browser.signIn(world.sandbox.urls.web, SANDBOX_USERS[user].github);
    await browser.signIn(world.sandbox.urls.ghes, SANDBOX_USERS[user].ghes);
    return browser;
  }

  async function startUrl(user: "alice" | "mallory") {
    const since = world.mark();
    await world.command(user, "link");
    return world.linkIn(await world.privateMessage(user, /Prove who you are/, since), /Sign in to GHES/);
  }

  it("a sign-in confirmed in mallory's browser and completed in alice's links nothing (login CSRF): 403 Not started in this browser, no token issued, audited", async () => {
    world = await startWorld(engine);
    const url = await startUrl("mallory");
    // mallory opens her Slack link and confirms on its page (her browser gets the binding
    // cookie), stops at GHES's sign-in and gets alice, signed in to GHES, to open that URL.
    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    const confirmCookie = (opened.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const token = /name="token" value="([^"]+)"/.exec(await opened.text())?.[1] as string;
    const started = await fetch(`${world.bot.url}/ghconnect/link/start`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: confirmCookie },
      body: new URLSearchParams({ state: new URL(url).searchParams.get("state") as string, token }).toString(),
      redirect: "manual",
    });
    expect(started.status).toBe(302);
    // The browser keeps the name the page gave it (one per browser, not per link).
    expect(started.headers.getSetCookie()).toEqual([`${confirmCookie}; Path=/ghconnect/link; Max-Age=600; HttpOnly; SameSite=Lax`]);
    const seq = await world.lastSeq();
    const page = await world.browse("alice", started.headers.get("location") as string);
    expect(page.status).toBe(403);
    expect(page.text).toContain(
      "This sign-in was not started in this browser. Nothing was linked. Start from the link ghconnect gave you in Slack (/ghconnect link), in the same browser you sign in with.",
    );
    expect(await world.bot.bot.store.links.all(SANDBOX_USERS.mallory.slack)).toEqual([]);
    expect([...world.sandbox.world.ghesUserTokens.values()].filter((t) => t.login === "alice")).toEqual([]);
    expect((await world.auditSince(seq)).map((e) => [e.action, e.actor_slack, e.target, e.details.reason])).toEqual([
      ["link.refused", SANDBOX_USERS.mallory.slack, "ghes", "link opened in another browser"],
    ]);
    // alice's own link, from her Slack, in her browser, still works.
    const own = await world.link("alice", "ghes");
    expect(own.text).toContain("You are alice on GHES.");
  });

  it("a start link forwarded to alice shows whose link it is and links nothing until confirmed; GET changes nothing", async () => {
    world = await startWorld(engine);
    const hhmm = () => `${new Date(world.sandbox.world.now()).toISOString().slice(11, 16)} UTC`;
    const before = hhmm();
    const url = await startUrl("mallory");
    const asked = [before, hhmm()];
    const seq = await world.lastSeq();
    const page = await (await lookingBrowser("alice")).browse(url);
    expect(page.status).toBe(200);
    // The person recognises their own request by when they made it; the member ID stays, no Slack mention markup.
    const said = asked.map(
      (at) =>
        `This is the link you asked for with /ghconnect link at ${at}, made for the Slack user ${SANDBOX_USERS.mallory.slack} (Slack member ID) in the Slack workspace Sandbox (T0SANDBOX).`,
    );
    expect(said.some((s) => page.text.includes(s))).toBe(true);
    expect(page.text).not.toContain("<@");
    expect(page.text).toContain(`Continuing signs you in to GHES (${new URL(world.sandbox.urls.ghes).host})`);
    expect(page.text).toContain(
      `Only continue if you are ${SANDBOX_USERS.mallory.slack} in Slack. If someone sent you this link, close this page: continuing gives them your GitHub identity.`,
    );
    expect(page.text).toContain("Nothing has been linked yet.");
    // alice stops there: nothing was linked, nothing was written, no GHES token was issued.
    expect(await world.bot.bot.store.links.all(SANDBOX_USERS.mallory.slack)).toEqual([]);
    expect([...world.sandbox.world.ghesUserTokens.values()]).toEqual([]);
    expect(await world.auditSince(seq)).toEqual([]);
    // The link is still mallory's to use, once, in her own browser.
    const own = await world.browse("mallory", url);
    expect(own.text).toContain("You are dave on GHES.");
  });

  it("link previews (Slack's unfurler: GET, HEAD) never use the link; the person's own click still links", async () => {
    world = await startWorld(engine);
    const url = await startUrl("mallory");
    const seq = await world.lastSeq();
    const previews = await Promise.all([
      fetch(url, { redirect: "manual" }),
      fetch(url, { redirect: "manual" }),
      fetch(url, { method: "HEAD", redirect: "manual" }),
    ]);
    // The GETs see the confirmation page (whose link, for which side); nothing goes on to GHES.
    expect(previews.map((r) => r.status)).toEqual([200, 200, 405]);
    expect(pageText(await (previews[0] as Response).text())).toContain(`made for the Slack user ${SANDBOX_USERS.mallory.slack}`);
    // A GET only names the browser (the cookie its page's token is bound to); HEAD sets nothing.
    expect(previews.map((r) => r.headers.getSetCookie().map((c) => c.replace(/=[A-Za-z0-9_-]+;/, "=…;")))).toEqual([
      ["ghconnect_link=…; Path=/ghconnect/link; Max-Age=600; HttpOnly; SameSite=Lax"],
      ["ghconnect_link=…; Path=/ghconnect/link; Max-Age=600; HttpOnly; SameSite=Lax"],
      [],
    ]);
    expect(await world.auditSince(seq)).toEqual([]);
    const own = await world.browse("mallory", url);
    expect(own.status).toBe(200);
    expect(own.text).toContain("You are dave on GHES.");
  });

  it("a POST to the start page without its page's token (or from another site) is refused with 403, counted on the audit trail, and uses and links nothing", async () => {
    world = await startWorld(engine);
    const url = await startUrl("mallory");
    const state = new URL(url).searchParams.get("state") as string;
    // mallory reads her own page's token, in her own browser.
    const hers = await fetch(url);
    const token = /name="token" value="([^"]+)"/.exec(await hers.text())?.[1] as string;
    const herCookie = (hers.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${world.bot.url}/ghconnect/link/start`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(body).toString(),
        redirect: "manual",
      });
    const seq = await world.lastSeq();
    const answers = [
      // A form on mallory's site posting alice's browser straight on: no token, no cookie.
      await post({ state }),
      // mallory's page's token, posted from a browser that does not hold her page's cookie.
      await post({ state, token }),
      // Her own cookie and token, but posted from another site.
      await post({ state, token }, { cookie: herCookie, origin: "https://evil.example" }),
    ];
    expect(answers.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(answers.every((r) => r.headers.get("location") === null)).toBe(true);
    expect(pageText(await (answers[0] as Response).text())).toContain(
      "This sign-in was not confirmed on ghconnect's page in this browser. Nothing was linked.",
    );
    // Coalesced: one entry per reason for the minute, the rest counted toward the next.
    expect((await world.auditSince(seq)).map((e) => [e.action, e.actor_slack, e.target, e.details.reason, e.details.count])).toEqual([
      ["link.refused", SANDBOX_USERS.mallory.slack, "ghes", "link confirmation without the page's token", 1],
      ["link.refused", SANDBOX_USERS.mallory.slack, "ghes", "link confirmation posted from another site", 1],
    ]);
    expect(await world.bot.bot.store.links.all(SANDBOX_USERS.mallory.slack)).toEqual([]);
    expect([...world.sandbox.world.ghesUserTokens.values()]).toEqual([]);
    // The refused POSTs used nothing: the link still works, once.
    const own = await world.browse("mallory", url);
    expect(own.text).toContain("You are dave on GHES.");
    const again = await post({ state, token }, { cookie: herCookie });
    expect(again.status).toBe(400);
    expect(pageText(await again.text())).toContain("This sign-in link was already used; each link works once.");
  });

  it("after a link, the person is told privately which login was linked, and the admin channel names the Slack user and the login", async () => {
    world = await startWorld(engine);
    const channelBefore = world.channel().length;
    await world.link("mallory", "ghes");
    const dm = await eventually(() =>
      world.sandbox.slack.messages.find((m) => m.channel === SANDBOX_USERS.mallory.slack && /now linked/.test(textOf(m))),
    );
    expect(textOf(dm)).toContain("Your Slack account is now linked to the GHES login `dave`.");
    expect(textOf(dm)).toContain("If that is not you, run `/ghconnect unlink ghes` now and tell an admin.");
    const line = await eventually(() =>
      world
        .channel()
        .slice(channelBefore)
        .find((m) => /linked GHES/.test(textOf(m))),
    );
    expect(textOf(line)).toContain(`🔗 <@${SANDBOX_USERS.mallory.slack}> signed in and linked GHES \`dave\` to their Slack account.`);
    const [entry] = (await world.bot.bot.store.audit.latest(20)).filter((e) => e.action === "link.linked");
    expect([entry?.actor_slack, entry?.actor_ghes, entry?.details.login]).toEqual([SANDBOX_USERS.mallory.slack, "dave", "dave"]);
  });
});
