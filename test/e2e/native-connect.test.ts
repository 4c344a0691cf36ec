// GHES's own GitHub Connect, watched through its enterprise audit log: what `status` shows, what
// the admin channel and the audit trail say when someone changes it in GHES's settings, and the
// faults (token scope, wrong slug, GHES down, many pages, a GHES clock behind the bot's).
import { afterEach, describe, expect, it } from "vitest";
import { TRUSTED_SOURCE } from "../../src/core/authorize.js";
import { nativeClick } from "../../src/sandbox/github/ghes-audit.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import { type SandboxProxy, startProxy } from "../../src/sandbox/proxy.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("native GitHub Connect (%s)", (engine) => {
  let world: World;
  let proxy: SandboxProxy | undefined;
  afterEach(async () => {
    await world?.close();
    await proxy?.stop();
    proxy = undefined;
  });

  const audited = async (action: string) =>
    (await world.bot.bot.store.audit.latest(200)).filter((e) => e.action === action).map((e) => e.details);

  /**
   * Peer approval, with bob's Slack account in the roster as GHES alice too (a second account of
   * the same person): GHES connected, alice asks to turn off Dependabot; the card bob will click.
   */
  async function dependabotOffAskedByAliceWithBobAsHerSecondAccount() {
    world = await startWorld(engine, {
      env: {
        GHCONNECT_ADMINS: `${SANDBOX_USERS.alice.slack}:alice,${SANDBOX_USERS.bob.slack}:alice`,
        GHCONNECT_DISCONNECT_APPROVAL: "peer",
      },
    });
    nativeClick(world.sandbox.world, "connect", "alice", "acme");
    await world.bot.bot.native.look();
    await world.command("alice", "feature disable dependabot");
    return world.card(/Turn off Dependabot alerts and updates in GHES/);
  }

  it("status shows GHES's own connection: account, since, by whom, token update and license upload, from its audit log", async () => {
    world = await startWorld(engine);
    const gh = world.sandbox.world;
    const connected = nativeClick(gh, "connect", "alice", "acme");
    gh.advance(60_000);
    const token = nativeClick(gh, "renew-token", "bob");
    gh.advance(60_000);
    const upload = nativeClick(gh, "upload-license-usage", "alice");
    const look = await world.bot.bot.native.look();
    expect(look).toMatchObject({ kind: "looked", newEvents: 3, baseline: true });
    const text = await world.ask("alice", "status", /GHES's own GitHub Connect/);
    const at = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    expect(text).toContain("Not connected"); // ghconnect's own connection, as today
    expect(text).toContain(`Connection\nconnected to acme since ${at(connected.created_at)} by @alice`);
    expect(text).toContain(`Token last updated\n${at(token.created_at)}`);
    expect(text).toContain(`License usage last uploaded\n${at(upload.created_at)}`);
    expect(text).toContain("license-sync: no change through ghconnect; GitHub publishes no audit event for it");
    expect(text).toContain(`/enterprises/${gh.enterpriseSlug}/settings/dotcom_connection`);
  });

  it("a disconnect made in GHES's settings is posted to the admin channel and audited as observed, once across two looks", async () => {
    world = await startWorld(engine);
    const gh = world.sandbox.world;
    nativeClick(gh, "connect", "alice", "acme");
    await world.bot.bot.native.look(); // the baseline: what existed before the bot watched is not news
    expect(await audited("native.observed")).toEqual([]);
    const destroyed = nativeClick(gh, "disconnect", "bob");
    await Promise.all([world.bot.bot.native.look(), world.bot.bot.native.look()]);
    const hhmm = new Date(destroyed.created_at).toISOString().slice(11, 16);
    const line = await world.card(/GitHub Connect was disabled in GHES's settings/);
    expect(textOf(line)).toContain(`GitHub Connect was disabled in GHES's settings by @bob at`);
    expect(textOf(line)).toContain(`${hhmm} UTC, not through ghconnect (event \`dotcom_connection.destroy\` ${destroyed._document_id})`);
    const observed = await audited("native.observed");
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ event_id: destroyed._document_id, via: "ghes_settings" });
    expect(await world.ask("alice", "status", /GHES's own GitHub Connect/)).toContain("not connected: disabled");
  });

  it("the app runs the watch each minute, claimed by one replica per period", async () => {
    world = await startWorld(engine);
    const [first, second] = await Promise.all([world.bot.bot.native.tick(), world.bot.bot.native.tick()]);
    expect([first.kind, second.kind].sort()).toEqual(["looked", "not_claimed"]);
  });

  it("follows every page of the audit log", async () => {
    world = await startWorld(engine);
    const gh = world.sandbox.world;
    for (let i = 0; i < 230; i++) nativeClick(gh, "upload-usage-metrics", "alice");
    const look = await world.bot.bot.native.look();
    expect(look).toMatchObject({ kind: "looked", newEvents: 230 });
    const pages = world.sandbox.routers.ghes.received.filter((r) => r.path.endsWith("/audit-log"));
    expect(pages).toHaveLength(3);
  });

  it("an event stamped by a GHES clock ten minutes behind the bot's is still seen", async () => {
    world = await startWorld(engine);
    const gh = world.sandbox.world;
    nativeClick(gh, "connect", "alice", "acme");
    await world.bot.bot.native.look();
    gh.advance(20 * 60_000);
    const late = nativeClick(gh, "disconnect", "bob");
    late.created_at -= 10 * 60_000;
    late["@timestamp"] = late.created_at;
    await world.bot.bot.native.look();
    expect((await audited("native.observed")).map((d) => d.event_id)).toEqual([late._document_id]);
  });

  it("before the watcher's first read, status says the log is not read yet instead of claiming there is no event (even after check read it)", async () => {
    world = await startWorld(engine);
    nativeClick(world.sandbox.world, "connect", "alice", "acme");
    expect(await world.ask("alice", "check", /ghconnect check/)).toContain("✅ GHES audit log");
    const text = await world.ask("alice", "status", /GHES's own GitHub Connect/);
    expect(text).toContain("Connection\nnot read yet (read each minute)");
    expect(text).toContain("Token last updated\nnot read yet (read each minute)");
    expect(text).toContain("Enterprise `example` · not read yet (read each minute)");
    expect(text).not.toContain("no `dotcom_connection` event");
    expect(text).not.toContain("never connected");
    // Once the watcher has read it, status says what the log holds.
    await world.bot.bot.native.look();
    const after = await world.ask("alice", "status", /GHES's own GitHub Connect/);
    expect(after).toContain("Connection\nconnected to acme since");
    expect(after).toContain("Token last updated\nno event seen");
  });

  it("a token without the audit-log scope: the channel says which scope, nothing is recorded", async () => {
    world = await startWorld(engine);
    world.sandbox.world.ghesTokenScopes = ["site_admin"];
    nativeClick(world.sandbox.world, "connect", "alice", "acme");
    const look = await world.bot.bot.native.look();
    expect(look.kind).toBe("failed");
    const line = await world.card(/cannot watch GHES's own GitHub Connect/);
    expect(textOf(line)).toContain("it needs the `admin:enterprise` scope (or `read:audit_log`); it has: site_admin");
    const text = await world.ask("alice", "status", /GHES's own GitHub Connect/);
    expect(text).toContain("Connection\nnot read yet (read each minute)");
    expect(text).toContain("⚠️ could not read GHES's audit log");
  });

  it("a wrong enterprise slug: says GHES has no such enterprise and how to find the slug", async () => {
    world = await startWorld(engine, { env: { GHES_ENTERPRISE: "no-such-enterprise" } });
    const look = await world.bot.bot.native.look();
    expect(look).toMatchObject({ kind: "failed" });
    expect((look as { problem: string }).problem).toContain("has no enterprise `no-such-enterprise` (404 on its audit log)");
    expect((look as { problem: string }).problem).toContain("https://GHES/enterprises/SLUG/settings");
  });

  it("GHES down: the look fails with GHES's answer, one line in the channel, and nothing is recorded", async () => {
    world = await startWorld(engine);
    const gh = world.sandbox.world;
    nativeClick(gh, "connect", "alice", "acme");
    gh.inject({ host: "ghes", status: 503, pathIncludes: "/audit-log", times: 6 });
    const first = await world.bot.bot.native.look();
    const second = await world.bot.bot.native.look();
    expect(first.kind).toBe("failed");
    expect(second.kind).toBe("failed");
    expect((first as { problem: string }).problem).toContain("Reading GHES's enterprise audit log");
    expect((first as { problem: string }).problem).toContain("answered 503");
    expect(await audited("native.watch_failed")).toHaveLength(1);
    expect(await audited("native.baseline")).toEqual([]);
    // Once GHES answers, what it had before is the baseline, not news; the recovery is said once.
    gh.clearFaults();
    expect(await world.bot.bot.native.look()).toMatchObject({ kind: "looked", baseline: true, announced: 0 });
    expect(await audited("native.observed")).toEqual([]);
    expect(await audited("native.watch_recovered")).toHaveLength(1);
  });

  describe("check, from the appliance's point of view", () => {
    it("shows GHES's own proxy beside the bot's, warns that they differ, and tests GitHub's hosts through GHES's proxy", async () => {
      proxy = await startProxy();
      world = await startWorld(engine);
      world.sandbox.world.applianceHttpProxy = proxy.url;
      proxy.refuse.add(new URL(world.sandbox.urls.uploads).host);
      const text = await world.ask("alice", "check", /ghconnect check/);
      const ghesProxy = new URL(proxy.url).host;
      expect(text).toContain(`⚠️ GHES proxy: GHES goes out through ${ghesProxy}, the bot directly (HTTPS_PROXY not set)`);
      expect(text).toMatch(
        new RegExp(`✅ github\\.com via GHES's proxy: 127\\.0\\.0\\.1:\\d+ reachable through ${ghesProxy.replace(/\./g, "\\.")}`),
      );
      expect(text).toMatch(/❌ uploads via GHES's proxy: 127\.0\.0\.1:\d+ through .*: the proxy refused CONNECT \(403\)/);
      for (const url of [world.sandbox.urls.web, world.sandbox.urls.api]) expect(proxy.seen).toContain(new URL(url).host);
    });

    it("the same proxy on both sides is one ok line; a proxy the bot cannot reach is said to be out of reach", async () => {
      proxy = await startProxy();
      world = await startWorld(engine, { env: { HTTPS_PROXY: proxy.url } });
      world.sandbox.world.applianceHttpProxy = proxy.url;
      expect(await world.ask("alice", "check", /ghconnect check/)).toContain(
        `✅ GHES proxy: GHES and the bot both go through ${new URL(proxy.url).host}`,
      );
      world.sandbox.world.applianceHttpProxy = "http://127.0.0.1:9";
      const text = await world.ask("alice", "check", /ghconnect check/);
      expect(text).toContain("⚠️ Through GHES's proxy: the bot cannot reach GHES's proxy 127.0.0.1:9 from here");
    });

    it("doctor names the audit-log scope GHES_TOKEN lacks", async () => {
      world = await startWorld(engine);
      world.sandbox.world.ghesTokenScopes = ["site_admin", "repo"];
      const text = await world.ask("alice", "check", /ghconnect check/);
      expect(text).toContain(
        "❌ GHES audit log: GHES_TOKEN may not read the enterprise audit log of `example` (403): it needs the `admin:enterprise` scope",
      );
    });

    it("GHES_ENTERPRISE unset: the slug is discovered from GHES (GraphQL viewer.enterprises), audited, and the watcher reads that enterprise's log", async () => {
      world = await startWorld(engine, { env: { GHES_ENTERPRISE: "" } });
      nativeClick(world.sandbox.world, "connect", "alice", "acme");
      expect((await world.bot.bot.native.look()).kind).toBe("looked");
      const text = await world.ask("alice", "check", /ghconnect check/);
      expect(text).toContain(
        "✅ GHES audit log: GHES_TOKEN reads the audit log of enterprise `example` (slug discovered from GHES; GHES_ENTERPRISE is not set) (1 `dotcom_connection` event)",
      );
      const graphql = world.sandbox.routers.ghes.received.filter((r) => r.method === "POST" && r.path === "/api/graphql");
      expect(graphql).toHaveLength(1);
      expect(await audited("native.enterprise_discovered")).toEqual([{ source: "GHES GraphQL viewer.enterprises" }]);
      const status = await world.ask("alice", "status", /GitHub Connect/);
      expect(status).toContain(`${world.sandbox.urls.ghes}/enterprises/example/settings/dotcom_connection`);
      // A restart asks GHES again, and finds the same slug: the trail already has it, once.
      await world.restartBot();
      expect((await world.bot.bot.native.look()).kind).toBe("looked");
      expect(world.sandbox.routers.ghes.received.filter((r) => r.method === "POST" && r.path === "/api/graphql")).toHaveLength(2);
      expect(await audited("native.enterprise_discovered")).toEqual([{ source: "GHES GraphQL viewer.enterprises" }]);
    });

    it("doctor says how to find the slug when GHES_ENTERPRISE is not set and GHES does not tell it (token without read:enterprise)", async () => {
      world = await startWorld(engine, { env: { GHES_ENTERPRISE: "" } });
      world.sandbox.world.ghesTokenScopes = ["site_admin"];
      const text = await world.ask("alice", "check", /ghconnect check/);
      expect(text).toContain("⚠️ GHES audit log: GHES_ENTERPRISE is not set and GHES at");
      expect(text).toContain("did not tell the enterprise slug");
      expect(text).toContain("https://GHES/enterprises/SLUG/settings");
      expect(await audited("native.enterprise_discovered")).toEqual([]);
    });
  });

  describe("governed native feature changes", () => {
    async function nativelyConnected(env: Record<string, string> = {}, sweepEveryMs?: number) {
      world = await startWorld(engine, { env, sweepEveryMs });
      nativeClick(world.sandbox.world, "connect", "alice", "acme");
      await world.bot.bot.native.look();
    }
    const settings = () => `${world.sandbox.urls.ghes}/enterprises/example/settings/dotcom_connection`;

    it("the bot cannot post the request's card (not in the admin channel): nothing is requested, the requester is told what to do, and asking again works once it can", async () => {
      await nativelyConnected();
      world.sandbox.slack.botNotIn.add(SANDBOX_ADMIN_CHANNEL);
      const seq = await world.lastSeq();
      const reply = await world.ask("alice", "feature enable license-sync", /Nothing was requested|Posted the request/);
      expect(reply).toContain(
        `:warning: Nothing was requested: the request's card could not be posted in <#${SANDBOX_ADMIN_CHANNEL}> (Slack did not take it), so nobody could approve it. Nothing was changed.`,
      );
      expect(reply).toContain("then run `/ghconnect feature enable license-sync` again.");
      const trail = (await world.auditSince(seq)).filter((e) => e.action.startsWith("native_feature."));
      expect(trail.map((e) => [e.action, e.outcome])).toEqual([
        ["native_feature.requested", "pending"],
        ["native_feature.withdrawn", "failed"],
      ]);
      world.sandbox.slack.botNotIn.delete(SANDBOX_ADMIN_CHANNEL);
      expect(await world.ask("alice", "feature enable license-sync", /Posted the request|Nothing was requested/)).toContain(
        "Posted the request to turn on License sync",
      );
      await world.card(/Turn on License sync in GHES/);
    });

    it("license sync: a card with what turns on, the data sent and live prerequisites; approval gives the settings link; the requester's confirmation records it as confirmed by a person", async () => {
      await nativelyConnected();
      const reply = await world.ask("alice", "feature enable license-sync", /Posted the request/);
      expect(reply).toContain("Any admin, you included, can approve it there.");
      const card = await world.card(/Turn on License sync in GHES/);
      const text = textOf(card);
      expect(text).toContain("What turns on: share license usage between the server and GitHub Enterprise Cloud.");
      expect(text).toContain("each GHES user's user ID and email addresses");
      expect(text).toContain("✅ GHES: answers, version 3.19.2");
      expect(text).toMatch(/✅ GitHub Connect in GHES: on, connected to acme since \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      const approving = world.mark();
      await world.click("alice", card, "native-feature.approve");
      expect(await world.ask("alice", "status", /Not connected/)).toContain("▫️ license-sync");
      const approved = await world.card(/Approved by <@U0ALICE001>/);
      expect(textOf(approved)).toContain(`<@U0ALICE001>: turn it on at ${settings()}`);
      expect(textOf(approved)).toContain("GitHub publishes no audit event for this setting");
      expect(world.linkIn(approved, /Open GHES's settings/)).toBe(settings());
      expect(textOf(await world.privateMessage("alice", /Approved/, approving))).toContain(settings());
      // Only the requester, who makes the change in GHES, confirms it.
      const bobClick = world.mark();
      await world.click("bob", approved, "native-feature.confirm");
      expect(textOf(await world.privateMessage("bob", /Nothing was changed/, bobClick))).toContain("Only <@U0ALICE001>");
      await world.click("alice", approved, "native-feature.confirm");
      const done = await world.card(/Confirmed done by <@U0ALICE001>/);
      expect(textOf(done)).toContain("confirmed by a person: GitHub publishes no audit event for this setting");
      const entry = (await world.bot.bot.store.audit.latest(50)).find((e) => e.action === "feature.enabled");
      expect(entry).toMatchObject({ target: "license-sync", actor_slack: "U0ALICE001" });
      expect(entry?.details).toMatchObject({ native: true, proof: "confirmed_by_person", approved_by: "U0ALICE001" });
      const after = await world.ask("alice", "status", /Not connected/);
      expect(after).toContain("✅ license-sync");
      expect(after).toMatch(
        /license-sync: on since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(by <@U0ALICE001>, through ghconnect\); GitHub publishes no audit event for it/,
      );
    });

    it("not confirmed within 30 min: the card says nothing was recorded as done", async () => {
      await nativelyConnected({}, 100);
      await world.command("alice", "feature enable unified-contributions");
      const card = await world.card(/Turn on Unified contributions in GHES/);
      await world.click("alice", card, "native-feature.approve");
      await world.card(/Approved by/);
      world.sandbox.world.advance(31 * 60_000);
      await world.card(/Not confirmed within 30 min: nothing recorded as done/);
      expect((await world.bot.bot.store.audit.latest(50)).some((e) => e.action === "feature.enabled")).toBe(false);
      expect((await world.bot.bot.store.audit.latest(50)).find((e) => e.action === "native_feature.not_seen")?.target).toBe(
        "unified-contributions",
      );
    });

    it("peer policy: the requester cannot approve their own change; two admins clicking at once approve it once", async () => {
      await nativelyConnected({ GHCONNECT_DISCONNECT_APPROVAL: "peer" });
      await world.command("alice", "feature disable dependabot");
      const card = await world.card(/Turn off Dependabot alerts and updates in GHES/);
      const own = world.mark();
      await world.click("alice", card, "native-feature.approve");
      expect(textOf(await world.privateMessage("alice", /Nothing was changed/, own))).toContain("needs a second admin");
      await Promise.all([world.click("bob", card, "native-feature.approve"), world.click("bob", card, "native-feature.approve")]);
      await world.card(/Approved by <@U0BOB00001>/);
      await world.privateMessage("bob", /already approved by <@U0BOB00001>/);
      const approvals = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "native_feature.approved");
      expect(approvals).toHaveLength(1);
    });

    /** The admin channel's "was refused" lines posted after the first `since` messages. */
    const refusedLinesSince = (since: number) =>
      world
        .channel()
        .slice(since)
        .filter((m) => textOf(m).includes("was refused"))
        .map(textOf);

    /** Under peer policy, alice asks to turn Dependabot off; its card, and the channel's length before any refusal. */
    async function dependabotOffAskedByAliceUnderPeer() {
      await nativelyConnected({ GHCONNECT_DISCONNECT_APPROVAL: "peer" });
      await world.command("alice", "feature disable dependabot");
      const card = await world.card(/Turn off Dependabot alerts and updates in GHES/);
      return { card, channelBefore: world.channel().length };
    }

    it("clicking Approve again and again, as the requester under peer policy or as a non-admin, is answered each time, but the admin channel shows one line and the trail one entry a minute per person, counting them", async () => {
      const { card, channelBefore } = await dependabotOffAskedByAliceUnderPeer();
      for (let i = 0; i < 3; i++) {
        const own = world.mark();
        await world.click("alice", card, "native-feature.approve");
        expect(textOf(await world.privateMessage("alice", /Nothing was changed/, own))).toContain("needs a second admin");
        const stranger = world.mark();
        await world.click("mallory", card, "native-feature.approve");
        await world.privateMessage("mallory", /not in ghconnect's admin roster, so you cannot approve the change of dependabot/, stranger);
      }
      const refusedLines = () =>
        world
          .channel()
          .slice(channelBefore)
          .filter((m) => textOf(m).includes("was refused"));
      await eventually(() => refusedLines().length > 0);
      expect(refusedLines().map(textOf)).toEqual([
        expect.stringContaining(
          `🚫 <@${SANDBOX_USERS.alice.slack}>'s click on the \`dependabot\` change was refused: This change needs a second admin`,
        ),
      ]);
      const own = await audited("native_feature.click");
      expect(own).toEqual([expect.objectContaining({ clicked_by: SANDBOX_USERS.alice.slack, count: 1 })]);
      const stranger = await audited("native_feature.approve");
      expect(stranger).toEqual([expect.objectContaining({ clicked_by: SANDBOX_USERS.mallory.slack, count: 1 })]);
      // The other two of each are counted toward the next entry of their kind, which the app's
      // refusal sweep writes once the minute is up.
      world.sandbox.world.advance(61_000);
      await world.bot.bot.enable.flushRefusals();
      expect((await audited("native_feature.click")).map((d) => d.count)).toEqual([2, 1]);
      expect((await audited("native_feature.approve")).map((d) => d.count)).toEqual([2, 1]);
      expect(await audited("native_feature.approved")).toEqual([]);
    });

    it("the channel line of a coalesced refusal says how many clicks it stands for: an auditor reading the channel sees the repeats, not one click", async () => {
      const { card, channelBefore } = await dependabotOffAskedByAliceUnderPeer();
      for (let i = 0; i < 3; i++) {
        const own = world.mark();
        await world.click("alice", card, "native-feature.approve");
        await world.privateMessage("alice", /Nothing was changed/, own);
      }
      world.sandbox.world.advance(61_000);
      await world.bot.bot.enable.flushRefusals();
      const refusedLines = () => refusedLinesSince(channelBefore);
      await eventually(() => refusedLines().length >= 2);
      expect(refusedLines()[0]).not.toMatch(/clicks/);
      expect(refusedLines()[1]).toMatch(/This change needs a second admin.*\(2 clicks since \d\d:\d\d UTC\)/);
    });

    it("two admins refused for the same reason on the same request are two people on the trail and in the channel: neither is folded into the other's count", async () => {
      await nativelyConnected();
      await world.command("alice", "feature disable dependabot");
      // As still shown in a Slack client that has not refreshed: the Approve button stays clickable.
      const card = structuredClone(await world.card(/Turn off Dependabot alerts and updates in GHES/));
      await world.click("bob", card, "native-feature.approve");
      await world.card(/Approved by/);
      const channelBefore = world.channel().length;
      for (const user of ["alice", "bob"] as const) {
        const since = world.mark();
        await world.click(user, card, "native-feature.approve");
        expect(textOf(await world.privateMessage(user, /Nothing was changed/, since))).toContain("already approved by <@U0BOB00001>");
      }
      const refusedLines = () => refusedLinesSince(channelBefore);
      await eventually(() => refusedLines().length >= 2);
      expect(refusedLines()).toEqual([
        expect.stringContaining(
          `🚫 <@${SANDBOX_USERS.alice.slack}>'s click on the \`dependabot\` change was refused: This change was already approved`,
        ),
        expect.stringContaining(
          `🚫 <@${SANDBOX_USERS.bob.slack}>'s click on the \`dependabot\` change was refused: This change was already approved`,
        ),
      ]);
      const entries = (await world.bot.bot.store.audit.latest(200)).filter((e) => e.action === "native_feature.click");
      expect(entries.map((e) => [e.actor_slack, e.details.clicked_by, e.details.count])).toEqual(
        expect.arrayContaining([
          [SANDBOX_USERS.alice.slack, SANDBOX_USERS.alice.slack, 1],
          [SANDBOX_USERS.bob.slack, SANDBOX_USERS.bob.slack, 1],
        ]),
      );
      expect(entries).toHaveLength(2);
      expect(await audited("native_feature.approved")).toHaveLength(1);
    });

    it("Approve and Cancel clicked at once end the request exactly once: one of approved or cancelled on the trail, the other click told what it is now", async () => {
      await nativelyConnected();
      await world.command("alice", "feature disable dependabot");
      const card = structuredClone(await world.card(/Turn off Dependabot alerts and updates in GHES/));
      const since = world.mark();
      await Promise.all([world.click("bob", card, "native-feature.approve"), world.click("alice", card, "native-feature.cancel")]);
      const bob = textOf(await world.privateMessage("bob", /Approved|Nothing was changed/, since));
      const alice = textOf(await world.privateMessage("alice", /Cancelled|approved/, since));
      const approved = await audited("native_feature.approved");
      const cancelled = await audited("native_feature.cancelled");
      expect(approved.length + cancelled.length).toBe(1);
      const request = await world.bot.bot.store.nativeRequests.get((approved[0] ?? cancelled[0])?.request as string);
      if (approved.length) {
        expect(request?.status).toBe("awaiting");
        expect(alice).toContain(`This change was already approved by <@${SANDBOX_USERS.bob.slack}>`);
      } else {
        expect(request?.status).toBe("cancelled");
        expect(bob).toContain(`This request was cancelled by <@${SANDBOX_USERS.alice.slack}>`);
      }
    });

    it("prerequisites checked live refuse the request, with nothing posted: GitHub Connect off in GHES, Actions off", async () => {
      world = await startWorld(engine);
      await world.bot.bot.native.look();
      const off = await world.ask("alice", "feature enable dependabot", /cannot be turned on now/);
      expect(off).toContain("GitHub Connect in GHES: GHES's audit log shows no active GitHub Connect");
      nativeClick(world.sandbox.world, "connect", "alice", "acme");
      await world.bot.bot.native.look();
      world.sandbox.world.ghesActionsEnabled = false;
      const actions = await world.ask("alice", "feature enable actions", /cannot be turned on now/);
      expect(actions).toContain("GitHub Actions: GitHub Actions is not enabled on GHES (404)");
      expect(world.channel().some((m) => /in GHES \(native GitHub Connect\)/.test(textOf(m)))).toBe(false);
      const refused = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "native_feature.requested");
      expect(refused.map((e) => e.outcome)).toEqual(["refused", "refused"]);
    });
    it("four-eyes compares people: a second Slack account of the requester's GHES login cannot approve a feature change", async () => {
      const card = await dependabotOffAskedByAliceWithBobAsHerSecondAccount();
      const clicked = world.mark();
      await world.click("bob", card, "native-feature.approve");
      expect(textOf(await world.privateMessage("bob", /Nothing was changed|Approved/, clicked))).toContain(
        "asked for it as GHES `alice`, which is you too",
      );
      expect(await audited("native_feature.approved")).toEqual([]);
    });
    it("four-eyes keeps the requester's GHES login from when they asked: their entry relinked to another login before the click, their second Slack account still cannot approve, and the admin channel says why", async () => {
      const card = await dependabotOffAskedByAliceWithBobAsHerSecondAccount();
      // alice's entry now names another GHES login; bob (a second Slack account of GHES alice) clicks.
      await world.bot.bot.store.admins.upsert(SANDBOX_USERS.alice.slack, "carol", TRUSTED_SOURCE);
      const channelBefore = world.channel().length;
      const clicked = world.mark();
      await world.click("bob", card, "native-feature.approve");
      const reason = `This change needs a second admin, another person: <@${SANDBOX_USERS.alice.slack}> asked for it as GHES \`alice\`, which is you too, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`;
      expect(textOf(await world.privateMessage("bob", /Nothing was changed|Approved/, clicked))).toContain(reason);
      expect(await audited("native_feature.approved")).toEqual([]);
      const line = await eventually(() =>
        world
          .channel()
          .slice(channelBefore)
          .find((m) => textOf(m).includes("was refused")),
      );
      expect(textOf(line)).toContain(`🚫 <@${SANDBOX_USERS.bob.slack}>'s click on the \`dependabot\` change was refused: ${reason}`);
    });
  });
});
