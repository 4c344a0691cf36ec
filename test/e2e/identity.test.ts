// People, not strings: a roster entry added by command grants nothing until its Slack user proves
// that GHES login by signing in; a GHES login belongs to one person; four-eyes approval compares
// people; and search runs with the searcher's own tokens, so each sees exactly what they may.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { nativeClick } from "../../src/sandbox/github/ghes-audit.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

const { alice, bob, mallory } = SANDBOX_USERS;

describe.each(ENGINES)("proven identities (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  /**
   * Peer approval, with bob's Slack account in the roster as GHES alice too (a second account of
   * the same person): connected, alice asks to disconnect; the card bob will click.
   */
  async function disconnectAskedByAliceWithBobAsHerSecondAccount() {
    world = await startWorld(engine, {
      env: { GHCONNECT_ADMINS: `${alice.slack}:alice,${bob.slack}:alice`, GHCONNECT_DISCONNECT_APPROVAL: "peer" },
    });
    await world.enable();
    const since = world.mark();
    await world.command("alice", "disable acme");
    return world.card(/Disconnect acme\?/, since);
  }

  describe("the roster", () => {
    it("admins add creates a pending entry that grants nothing until that person signs in to GHES as that login", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:alice` } });
      expect(await world.ask("alice", `admins add <@${bob.slack}> bob`, /Added/)).toContain(
        `Added <@${bob.slack}> (GHES \`bob\`) to the admins as pending: the entry grants nothing until <@${bob.slack}> runs \`/ghconnect link\` and signs in to GHES as \`bob\`.`,
      );
      await world.card(
        /added <@U0BOB00001> \(GHES `bob`\) to the ghconnect admins\. The entry is pending until they link that GHES login\./,
      );
      expect(await world.ask("alice", "admins", /Admins \(2\)/)).toContain(`<@${bob.slack}> — GHES \`bob\``);
      expect(await world.ask("alice", "admins", /Admins \(2\)/)).toContain("— pending until they link that GHES login");
      const seq = await world.lastSeq();
      expect(await world.ask("bob", "audit 3", /pending|Audit trail/)).toContain(
        "Your roster entry for the GHES login `bob` is pending until you prove that login, so you cannot read the audit trail.",
      );
      expect((await world.auditSince(seq)).map((e) => [e.action, e.outcome])).toEqual([["command.audit", "refused"]]);

      const page = await world.link("bob", "ghes");
      expect(page.text).toContain("You are bob on GHES. Your admin roster entry is now active.");
      await world.card(/🔐 <@U0BOB00001> signed in to GHES as `bob`: their admin entry is active\./);
      const proven = (await world.auditSince(seq)).filter((e) => e.action === "admins.proven");
      const bobId = world.sandbox.world.ghesUsers.find((u) => u.login === "bob")?.id;
      expect(proven.map((e) => [e.actor_slack, e.actor_ghes, e.target, e.details])).toEqual([
        [bob.slack, "bob", `${bob.slack}:bob`, { ghes_user_id: bobId }],
      ]);
      expect(bobId).toEqual(expect.any(Number));
      expect(await world.ask("bob", "audit 3", /pending|Audit trail/)).toContain("Audit trail");
    });

    it("signing in as another login is refused — 'you signed in as dave; this entry is for bob' — audited, nothing stored", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:alice` } });
      await world.ask("alice", `admins add <@${bob.slack}> bob`, /Added/);
      const seq = await world.lastSeq();
      // bob's sign-in link, followed in a browser signed in to GHES as dave.
      const page = await world.link("bob", "ghes", "mallory");
      expect(page.status).toBe(403);
      expect(page.text).toContain("You signed in as dave; this entry is for bob.");
      expect(await world.bot.bot.store.links.all(bob.slack)).toEqual([]);
      const refused = (await world.auditSince(seq)).filter((e) => e.action === "link.refused");
      expect(refused.map((e) => [e.actor_slack, e.actor_ghes, e.outcome])).toEqual([[bob.slack, "dave", "refused"]]);
      // The token GHES issued for that sign-in was revoked, not kept.
      const daveTokens = [...world.sandbox.world.ghesUserTokens.values()].filter((t) => t.login === "dave");
      expect(daveTokens.map((t) => t.revoked)).toEqual([true]);
      expect(await world.ask("bob", "check", /pending|check/)).toContain("is pending until you prove that login");
    });

    it("a GHES login belongs to one person: adding it for a second Slack user, or linking it twice, is refused", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:alice` } });
      const seq = await world.lastSeq();
      expect(await world.ask("alice", `admins add <@${mallory.slack}> alice`, /Added|belongs/)).toContain(
        `The GHES login \`alice\` already belongs to <@${alice.slack}>; a GHES login belongs to one person, so <@${mallory.slack}> was not added.`,
      );
      expect((await world.bot.bot.store.admins.list()).map((a) => a.slackUserId)).toEqual([alice.slack]);
      expect((await world.auditSince(seq)).map((e) => [e.action, e.outcome])).toEqual([["command.admins-add", "refused"]]);

      await world.link("alice", "ghes");
      const page = await world.link("mallory", "ghes", "alice");
      expect(page.status).toBe(409);
      expect(page.text).toContain("The GHES login alice is already linked to another Slack user; a login belongs to one person.");
      expect(await world.bot.bot.store.links.all(mallory.slack)).toEqual([]);
    });

    it("four-eyes approval compares people: a second Slack account of the requester's GHES login cannot approve", async () => {
      const card = await disconnectAskedByAliceWithBobAsHerSecondAccount();
      const clicked = world.mark();
      await world.click("bob", card, "disable.approve");
      expect(textOf(await world.privateMessage("bob", /second person/, clicked))).toContain(
        `This disconnect needs a second person: <@${alice.slack}> asked for it as GHES \`alice\`, which is you too, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer). Nothing was changed.`,
      );
      expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
    });

    it("four-eyes keeps the requester's GHES login from when they asked: their entry removed before the click, their second Slack account still cannot approve, and the card's thread says why", async () => {
      const card = await disconnectAskedByAliceWithBobAsHerSecondAccount();
      // alice's own entry goes away meanwhile; bob (a second Slack account of GHES alice) clicks.
      await world.bot.bot.store.admins.remove(alice.slack);
      const clicked = world.mark();
      await world.click("bob", card, "disable.approve");
      const reason = `This disconnect needs a second person: <@${alice.slack}> asked for it as GHES \`alice\`, which is you too, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`;
      expect(textOf(await world.privateMessage("bob", /second person/, clicked))).toContain(`${reason} Nothing was changed.`);
      const connection = await world.bot.bot.store.connections.active();
      expect(connection?.org).toBe("acme");
      expect((await world.bot.bot.store.approvals.pendingFor(connection?.id as string))?.status).toBe("pending");
      const line = await eventually(() =>
        world.sandbox.slack.messages.find((m) => m.threadTs === card.ts && textOf(m).includes("click was refused")),
      );
      expect(textOf(line)).toContain(`🚫 <@${bob.slack}>'s click was refused: ${reason}`);
    });

    it("entries added by command before proofs were required are pending: said once in the admin channel, and in status", async () => {
      world = await startWorld(engine);
      // What `admins add` stored before this change: an entry nobody proved.
      await world.bot.bot.store.admins.upsert(mallory.slack, "dave", alice.slack);
      await world.restartBot();
      const notice = `1 admin roster entry is pending and grants nothing until the person runs \`/ghconnect link\` and signs in to GHES as that login: <@${mallory.slack}> (\`dave\`).`;
      const notices = () => world.channel().filter((m) => textOf(m).includes(notice));
      expect(notices()).toHaveLength(1);
      await world.restartBot();
      expect(notices()).toHaveLength(1);
      expect(await world.ask("alice", "status", /Not connected/)).toContain(`⏳ ${notice}`);
      const audited = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "admins.pending_notice");
      expect(audited.map((e) => e.details)).toEqual([{ pending: [`${mallory.slack}:dave`] }]);
    });
  });

  describe("four eyes across a GHES rename", () => {
    // A site admin can rename a GHES account; the renamed login is a new string but the same
    // account (GET /user keeps its id). A second admin adds the new login for another Slack account
    // of the requester, which then links as it: that is still the requester.
    const peer = { GHCONNECT_ADMINS: `${alice.slack}:alice,${bob.slack}:bob`, GHCONNECT_DISCONNECT_APPROVAL: "peer" };
    // alice asked as `alice`; the refusal names that login and the one her account has now.
    const sameAccount = `This disconnect needs a second person: <@${alice.slack}> asked for it as GHES \`alice\`, the GHES account you are signed in as (\`alice-2\` now: it was renamed since), so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`;

    /** `/ghconnect link` as `user`, its GHES sign-in followed in a browser signed in to GHES as `ghesLogin`. */
    async function linkGhesAs(user: "mallory", ghesLogin: string) {
      const since = world.mark();
      await world.command(user, "link");
      const reply = await world.privateMessage(user, /Prove who you are/, since);
      const browser = await world.bot.browser(user);
      await browser.signIn(world.sandbox.urls.ghes, ghesLogin);
      return browser.browse(world.linkIn(reply, /Sign in to GHES/));
    }

    /** alice asks to disconnect acme; the disconnect card. */
    async function aliceAsksToDisconnect() {
      const since = world.mark();
      await world.command("alice", "disable acme");
      return world.card(/Disconnect acme\?/, since);
    }

    /**
     * alice gives up her GHES link (her GHCONNECT_ADMINS entry stays), her GHES account is renamed
     * to alice-2, bob adds alice-2 for mallory's Slack account, and mallory links as it.
     */
    async function renameAndRelinkAlice() {
      expect(await world.ask("alice", "unlink ghes", /Unlinked/)).toContain("Unlinked GHES (`alice`)");
      world.sandbox.world.renameGhesUser("alice", "alice-2");
      await world.ask("bob", `admins add <@${mallory.slack}> alice-2`, /Added/);
      const page = await linkGhesAs("mallory", "alice-2");
      expect(page.text).toContain("You are alice-2 on GHES. Your admin roster entry is now active.");
    }

    /** The disconnect request as a row from before GHES ids were kept. */
    async function forgetRequesterId() {
      await sql`update approvals set requested_by_ghes_id = null`.execute(world.testDb.db.kysely);
    }

    it("the requester renamed on GHES and linked from a second Slack account cannot approve: refused as the same person (the request keeps her GHES id), audited; another person then approves", async () => {
      world = await startWorld(engine, { env: peer });
      await world.link("alice", "ghes");
      await world.link("bob", "ghes");
      await world.enable();
      const card = await aliceAsksToDisconnect();
      await renameAndRelinkAlice();
      const seq = await world.lastSeq();
      const clicked = world.mark();
      await world.click("mallory", card, "disable.approve");
      expect(textOf(await world.privateMessage("mallory", /./, clicked))).toContain(`${sameAccount} Nothing was changed.`);
      expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
      const refused = (await world.auditSince(seq)).filter((e) => e.action === "disable.approve");
      expect(refused.map((e) => [e.actor_slack, e.actor_ghes, e.outcome, e.details?.reason])).toEqual([
        [mallory.slack, "alice-2", "refused", sameAccount],
      ]);

      await world.click("bob", card, "disable.approve");
      expect(textOf(await world.card(/Disconnected acme/))).toContain(`approved by <@${bob.slack}>`);
      expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    });

    it("a feature change: the requester renamed on GHES and linked from a second Slack account cannot approve it, audited; another person then approves", async () => {
      world = await startWorld(engine, { env: peer });
      await world.link("alice", "ghes");
      nativeClick(world.sandbox.world, "connect", "alice", "acme");
      await world.bot.bot.native.look();
      await world.command("alice", "feature disable dependabot");
      const card = await world.card(/Turn off Dependabot alerts and updates in GHES/);
      await renameAndRelinkAlice();
      const seq = await world.lastSeq();
      const clicked = world.mark();
      await world.click("mallory", card, "native-feature.approve");
      const reason = `This change needs a second admin, another person: <@${alice.slack}> asked for it as GHES \`alice\`, the GHES account you are signed in as (\`alice-2\` now: it was renamed since), so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer).`;
      expect(textOf(await world.privateMessage("mallory", /./, clicked))).toContain(reason);
      const refused = (await world.auditSince(seq)).filter((e) => e.action.startsWith("native_feature."));
      expect(refused.map((e) => [e.action, e.actor_slack, e.actor_ghes, e.outcome, e.details?.reason])).toEqual([
        ["native_feature.click", mallory.slack, "alice-2", "refused", reason],
      ]);

      const approved = world.mark();
      await world.click("bob", card, "native-feature.approve");
      expect(textOf(await world.privateMessage("bob", /./, approved))).toContain(`✅ Approved. <@${alice.slack}> turns it off`);
    });

    it("a request from before GHES ids were kept is still compared by login: a second Slack account of the requester's login cannot approve", async () => {
      world = await startWorld(engine, {
        env: { GHCONNECT_ADMINS: `${alice.slack}:alice,${mallory.slack}:alice`, GHCONNECT_DISCONNECT_APPROVAL: "peer" },
      });
      await world.link("alice", "ghes");
      await world.enable();
      const card = await aliceAsksToDisconnect();
      await forgetRequesterId();
      const clicked = world.mark();
      await world.click("mallory", card, "disable.approve");
      expect(textOf(await world.privateMessage("mallory", /./, clicked))).toContain(
        `This disconnect needs a second person: <@${alice.slack}> asked for it as GHES \`alice\`, which is you too, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer). Nothing was changed.`,
      );
      expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
    });

    it("a GHES account belongs to one Slack user under any login: renamed, it cannot be linked from a second Slack account while the first holds it; refused, revoked, audited", async () => {
      world = await startWorld(engine, { env: peer });
      await world.link("alice", "ghes");
      world.sandbox.world.renameGhesUser("alice", "alice-2");
      await world.ask("bob", `admins add <@${mallory.slack}> alice-2`, /Added/);
      const seq = await world.lastSeq();
      const page = await linkGhesAs("mallory", "alice-2");
      expect(page.status).toBe(409);
      expect(page.text).toContain(
        "The GHES account alice-2 is already linked to another Slack user, as alice (GHES keeps an account's id across renames); an account belongs to one person.",
      );
      expect(page.text).toContain(
        "If that Slack account is yours too, run /ghconnect unlink ghes there first; otherwise sign in as your own account.",
      );
      expect(await world.bot.bot.store.links.all(mallory.slack)).toEqual([]);
      const refused = (await world.auditSince(seq)).filter((e) => e.action === "link.refused");
      expect(refused.map((e) => [e.actor_slack, e.actor_ghes, e.outcome])).toEqual([[mallory.slack, "alice-2", "refused"]]);
      // The token GHES issued for that sign-in was revoked, not kept; mallory's entry grants nothing.
      const renamedTokens = [...world.sandbox.world.ghesUserTokens.values()].filter((t) => t.login === "alice-2");
      expect(renamedTokens.map((t) => t.revoked)).toContain(true);
      expect(await world.ask("mallory", "check", /pending|check/)).toContain("is pending until you prove that login");
    });
  });

  describe("unified search as the person", () => {
    it("each side answers with the searcher's own token; results differ per person, stay private, and an unlinked side is skipped with a prompt", async () => {
      world = await startWorld(engine);
      await world.readyToSearch("alice", "carol");
      await world.link("mallory", "ghes");
      const channelBefore = world.channel().length;
      world.sandbox.world.searches.length = 0;

      const asAlice = await world.ask("alice", "search flaky", /Search:/);
      expect(asAlice).toContain("security/vault#4");
      expect(asAlice).toContain("acme/api#101");
      expect(asAlice).toContain("GHES: 3 · acme on GitHub: 2 · showing 5");

      const asCarol = await world.ask("carol", "search flaky", /Search:/);
      expect(asCarol).not.toContain("security/vault#4");
      expect(asCarol).toContain("acme/api#101");
      expect(asCarol).toContain("GHES: 2 · acme on GitHub: 2 · showing 4");

      const asMallory = await world.ask("mallory", "search flaky", /Search:/);
      expect(asMallory).toContain("🔗 GitHub (acme) skipped: link your account with `/ghconnect link` to search it as yourself.");
      expect(asMallory).not.toContain("acme/api");
      expect(asMallory).toContain("GHES: 2 · acme on GitHub: skipped (not linked) · showing 2");

      expect(world.sandbox.world.searches).toEqual(
        expect.arrayContaining([
          { host: "ghes", as: "alice" },
          { host: "github", as: "octocat" },
          { host: "ghes", as: "carol" },
          { host: "github", as: "monalisa" },
          { host: "ghes", as: "dave" },
        ]),
      );
      expect(world.sandbox.world.searches.filter((s) => s.as === "site-admin" || s.as === "installation")).toEqual([]);
      expect(world.sandbox.world.searches).toHaveLength(5);
      // Results only in the searcher's private replies, never in a channel.
      expect(world.sandbox.slack.messages.filter((m) => /Search: flaky/.test(textOf(m)) && !m.user)).toEqual([]);
      expect(world.channel().slice(channelBefore).map(textOf).join("\n")).not.toContain("vault");
    });
  });

  it("a roster entry added while a sign-in as another login completes is not proven: the sign-in is refused as Wrong GHES login, nothing linked, no admins.proven", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:alice` } });
    const links = world.bot.bot.store.links;
    const ownerOf = links.ownerOf.bind(links);
    // The interleaving: mallory's sign-in as dave has passed the roster check (no entry yet) when
    // alice runs `admins add @mallory bob`; the callback then writes the link in its transaction.
    links.ownerOf = async (side, login) => {
      links.ownerOf = ownerOf;
      const since = world.mark();
      await world.command("alice", `admins add <@${mallory.slack}> bob`);
      await world.privateMessage("alice", /Added/, since);
      return ownerOf(side, login);
    };
    const page = await world.link("mallory", "ghes");
    // Refused as the pre-check refuses a sign-in as another login than the entry's: nothing linked.
    expect(page.text).toContain("You signed in as dave; this entry is for bob.");
    expect(await world.bot.bot.store.links.all(mallory.slack)).toEqual([]);
    // Today the page says "Your admin roster entry is now active." and the trail records
    // admins.proven for U0MALLORY1:dave — for an entry that is for bob and stays pending.
    expect(page.text).not.toContain("Your admin roster entry is now active.");
    const proven = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "admins.proven");
    expect(proven).toEqual([]);
  });
});
