// The commands admins use every day, and what the auditor reads.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseUnavailable } from "../../src/core/errors.js";
import { eventually, messageText } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

// The key exports are signed with (derived from it); any bot's key will do for these tests.
const ENCRYPTION_KEY = randomBytes(32).toString("base64");

/** `key`: the bot's encryption key where the command signs with it (export refuses another). */
function cli(args: string[], databaseUrl: string, key = ENCRYPTION_KEY) {
  const r = spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: databaseUrl,
      DOTENV_CONFIG_PATH: "/nonexistent",
      GHCONNECT_ENCRYPTION_KEY: key,
    },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each(ENGINES)("everyday commands (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  describe("status", () => {
    /** How many times GHES was asked its version (status's look at it). */
    const versionCalls = () => world.sandbox.routers.ghes.received.filter((r) => /\/meta$/.test(r.path)).length;

    it("without a connection says so and how to connect", async () => {
      world = await startWorld(engine);
      const text = await world.ask("alice", "status", /Not connected/);
      expect(text).toContain("/ghconnect enable ORG");
    });

    it("with a connection: account, since, by whom, app, token expiry, features — and no GitHub call while fresh", async () => {
      world = await startWorld(engine);
      world.sandbox.world.freeze(); // the token's hour is still whole when status reads it
      await world.enable();
      const first = await world.ask("alice", "status", /Connected to acme/);
      expect(first).toMatch(/Since\n\d{4}-\d\d-\d\d/);
      expect(first).toContain("github.com `octocat`");
      expect(first).toMatch(/Installation token\nexpires .+ \(in 60 min\)/);
      expect(first).toContain("Example Corp, expires 2027-06-30");
      const { api, ghes, web } = world.sandbox.routers;
      const before = api.received.length + ghes.received.length + web.received.length;
      for (let i = 0; i < 5; i++) await world.ask("mallory", "status", /Connected to acme/);
      expect(api.received.length + ghes.received.length + web.received.length).toBe(before);
    });

    it("is answered inside Slack's ack, a burst right after connecting sharing one look at GHES; audited once even when Slack retries; stale, one look again; a GHES too slow for the ack answers after it", async () => {
      world = await startWorld(engine);
      await world.enable();
      const { driver, bot } = world.bot;
      const audited = async () =>
        Number(
          (await sql<{ n: number }>`select count(*) as n from audit_log where action = 'command.status'`.execute(bot.store.db.kysely))
            .rows[0]?.n,
        );
      const answeredLater = () =>
        world.sandbox.slack.messages.filter((m) => m.via === "response_url" && /Connected to acme/.test(messageText(m))).length;
      const busy = () => world.sandbox.slack.messages.filter((m) => /is busy/.test(messageText(m))).length;
      // Right after connecting GHES has never been looked at: a team's burst of status asks it once,
      // and every answer is the ack's body (nothing is queued, nobody is told the bot is busy).
      const callsBefore = versionCalls();
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) => driver.command(`U0BURST${String(i).padStart(4, "0")}`, "status")),
      );
      expect(burst.map((r) => messageText(r.ack as object)).filter((t) => t.includes("Connected to acme"))).toHaveLength(30);
      expect(versionCalls()).toBe(callsBefore + 1);
      expect(burst.some((r) => /is busy/.test(messageText((r.ack ?? {}) as object)))).toBe(false);
      await eventually(async () => (await audited()) === 30);

      const request = driver.commandRequest("U0ALICE001", "status");
      const first = await driver.send(request);
      expect(messageText(first.ack as object)).toContain("Connected to acme");
      const retry = await driver.retry(request, 1);
      expect(messageText(retry.ack as object)).toContain("Connected to acme");
      await eventually(async () => (await audited()) === 31);
      expect(versionCalls()).toBe(callsBefore + 1);

      // Five minutes on, the last look is stale: one look again, answered in the ack.
      world.sandbox.world.advance(6 * 60_000);
      const stale = await driver.command("U0ALICE001", "status");
      expect(messageText(stale.ack as object)).toContain("Connected to acme");
      expect(versionCalls()).toBe(callsBefore + 2);
      await eventually(async () => (await audited()) === 32);

      // Five more minutes, and GHES does not answer within the ack's budget: both acks are empty,
      // the answers come through response_url once GHES answers, and GHES was asked once.
      world.sandbox.world.advance(6 * 60_000);
      world.sandbox.world.ghesVersion = "3.20.0";
      const hold = world.sandbox.world.hold({ host: "ghes", pathIncludes: "/meta" });
      const since = world.mark();
      const slow = await Promise.all([driver.command("U0ALICE001", "status"), driver.command("U0BOB00001", "status")]);
      expect(slow.map((r) => r.ack)).toEqual([undefined, undefined]);
      await hold.arrived;
      hold.release();
      const later = await eventually(() => {
        const answers = world.sandbox.slack.messages.slice(since).filter((m) => m.via === "response_url");
        return answers.length === 2 ? answers : undefined;
      });
      // Each answer waited for what GHES said.
      for (const answer of later) expect(messageText(answer)).toContain("3.19.2 at connect, 3.20.0 now");
      expect(answeredLater()).toBe(2);
      expect(versionCalls()).toBe(callsBefore + 3);
      await eventually(async () => (await audited()) === 34);
      expect(busy()).toBe(0);
    });

    it("a look at GHES the database could not record is not kept: the next one asks GHES again (here the same command's, after its ack) and answers", async () => {
      world = await startWorld(engine);
      await world.enable();
      const { driver, bot } = world.bot;
      const callsBefore = versionCalls();
      const connections = bot.store.connections;
      const noteChecked = connections.noteChecked.bind(connections);
      let failures = 1;
      connections.noteChecked = async (...args) => {
        if (failures-- > 0) throw new DatabaseUnavailable(new Error("connection terminated"));
        return noteChecked(...args);
      };
      const since = world.mark();
      const reply = await driver.command("U0ALICE001", "status");
      expect(reply.ack).toBeUndefined();
      const answer = await eventually(() => world.sandbox.slack.messages.slice(since).find((m) => m.via === "response_url"));
      expect(messageText(answer)).toContain("Connected to acme");
      expect(versionCalls()).toBe(callsBefore + 2);
    });

    it("GHES not answering the look: every status for 30 s says why (GHES asked once, a 404 not retried), nothing is recorded as checked, and the next look after that shows it back", async () => {
      world = await startWorld(engine);
      await world.enable();
      const { driver } = world.bot;
      const callsBefore = versionCalls();
      world.sandbox.world.inject({ host: "ghes", pathIncludes: "/meta", status: 404 });
      const wave = await Promise.all(["U0ALICE001", "U0BOB00001", "U0WAVE0003"].map((u) => driver.command(u, "status")));
      for (const r of wave) {
        expect(messageText(r.ack as object)).toMatch(
          /⚠️ GHES could not be checked just now \(.+\); showing what was last known\. not checked yet/,
        );
      }
      expect(versionCalls()).toBe(callsBefore + 1);
      world.sandbox.world.advance(20_000);
      const stillFailing = await driver.command("U0AFTER001", "status");
      expect(messageText(stillFailing.ack as object)).toContain("⚠️ GHES could not be checked just now");
      expect(versionCalls()).toBe(callsBefore + 1);
      world.sandbox.world.advance(11_000);
      const back = await driver.command("U0AFTER002", "status");
      expect(messageText(back.ack as object)).not.toContain("could not be checked");
      expect(messageText(back.ack as object)).toMatch(/last checked \d{4}-\d\d-\d\d/);
      expect(versionCalls()).toBe(callsBefore + 2);
    });

    it("a look in flight is shared even if the clock steps back meanwhile, and a reconnect meanwhile gets a look of its own", async () => {
      world = await startWorld(engine);
      await world.enable();
      const { driver, bot } = world.bot;
      const callsBefore = versionCalls();
      const oldId = (await bot.store.connections.active())?.id;
      const hold = world.sandbox.world.hold({ host: "ghes", pathIncludes: "/meta" });
      const since = world.mark();
      const first = driver.command("U0ALICE001", "status");
      await hold.arrived;
      world.sandbox.world.advance(-1000); // an NTP step back while GHES is being asked
      const second = await driver.command("U0BOB00001", "status");
      expect(second.ack).toBeUndefined();
      expect((await first).ack).toBeUndefined();
      expect(versionCalls()).toBe(callsBefore + 1);

      // Disconnected and connected again while that look is still out: the new connection's
      // status does not wait on the old connection's look.
      await world.command("alice", "disable acme");
      await world.click("bob", await world.card(/Disconnect acme\?/), "disable.approve");
      await world.card(/Disconnected acme/);
      await world.enable();
      expect((await bot.store.connections.active())?.id).not.toBe(oldId);
      const callsAfterEnable = versionCalls(); // enable's preflight asks GHES too
      const fresh = await driver.command("U0CAROL001", "status");
      expect(messageText(fresh.ack as object)).toContain("Connected to acme");
      expect(versionCalls()).toBe(callsAfterEnable + 1);
      hold.release();
      // The two statuses that waited on the old look answer once it ends (with what is connected now).
      const answered = () =>
        world.sandbox.slack.messages.slice(since).filter((m) => m.via === "response_url" && /Connected to acme/.test(messageText(m)));
      await eventually(() => answered().length === 2);
      expect(
        answered()
          .map((m) => m.user)
          .sort(),
      ).toEqual(["U0ALICE001", "U0BOB00001"]);
    });

    it("warns when the token has expired and when GHES's version changed since connecting", async () => {
      world = await startWorld(engine);
      await world.enable();
      world.sandbox.world.ghesVersion = "3.20.0";
      world.sandbox.world.advance(61 * 60_000);
      const text = await world.ask("alice", "status", /Connected to acme/);
      expect(text).toMatch(/⚠️ expired at/);
      expect(text).toContain("⚠️ 3.19.2 at connect, 3.20.0 now");
    });

    it("shows an enable in flight in words, not its state's name", async () => {
      world = await startWorld(engine);
      await world.enableUntilGitHub();
      const waiting = await world.ask("alice", "status", /Not connected/);
      expect(waiting).toMatch(
        /⏳ An enable of acme by <@U0ALICE001> is waiting for the app to be created and installed on GitHub; expires/,
      );
      expect(waiting).not.toMatch(/awaiting/);
    });

    it("shows a disconnect waiting for a second admin (peer policy) in words", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_DISCONNECT_APPROVAL: "peer" } });
      await world.enable();
      await world.command("alice", "disable acme");
      await world.card(/Disconnect acme\?/);
      const pending = await world.ask("bob", "status", /Connected to acme/);
      expect(pending).toMatch(/⏳ A disconnect of acme requested by <@U0ALICE001> is waiting for another admin's approval; expires/);
      expect(pending).not.toContain(" is pending");
    });

    it("after a disconnect, shows when GHES was last checked and the last GitHub call", async () => {
      world = await startWorld(engine);
      await world.enable();
      await world.ask("alice", "status", /Connected to acme/);
      await world.command("alice", "disable acme");
      const card = await world.card(/Disconnect acme\?/);
      await world.click("bob", card, "disable.approve");
      await world.card(/Disconnected acme/);
      const after = await world.ask("alice", "status", /Not connected/);
      expect(after).toContain("Disconnected from acme");
      expect(after).toMatch(/last checked \d{4}-\d\d-\d\d \d\d:\d\d UTC · last GitHub call \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(after).not.toContain("not checked yet");
    });

    it("outside the admin channel, only admins see it", async () => {
      world = await startWorld(engine);
      await world.bot.driver.command("U0MALLORY1", "status", { channel: "C0GENERAL1" });
      await world.privateMessage("mallory", /shown in <#C0ADMINS01> and to admins/);
    });
  });

  describe("check", () => {
    it("lists every check with advice, and changes nothing", async () => {
      world = await startWorld(engine);
      const text = await world.ask("alice", "check", /all checks pass|failed/);
      for (const name of ["Config", "Database", "Admin roster", "Slack", "GHES", "License", "github.com", "API", "uploads", "Clock"])
        expect(text).toContain(`✅ ${name}`);
      expect(await world.bot.bot.store.operations.inFlight()).toBeUndefined();
    });

    it("reports each failure with what to do", async () => {
      world = await startWorld(engine);
      world.sandbox.world.managePassword = "changed";
      world.sandbox.world.inject({ host: "uploads", status: 0, delayMs: 0, times: 0 });
      const text = await world.ask("alice", "doctor", /check/);
      expect(text).toContain("❌ License: The Management Console API");
      expect(text).toContain("→ Set GHES_MANAGE_PASSWORD");
      expect(text).toMatch(/❌ 1 check failed/);
    });

    it("warns when this host's clock is off from GitHub's, and fails a missing Slack scope", async () => {
      world = await startWorld(engine);
      world.sandbox.world.clockOffsetMs = 45_000; // the bot's clock (it follows the sandbox's) runs 45 s ahead
      world.sandbox.slack.scopes = ["commands"];
      const text = await world.ask("alice", "check", /check/);
      expect(text).toMatch(/⚠️ Clock: this host's clock is 4\d s ahead of GitHub's/);
      expect(text).toContain("→ Sync the clock with NTP");
      expect(text).toContain("❌ Slack scopes: the bot token lacks chat:write");
      expect(text).toContain("→ Add the scopes in manifest.yml and reinstall the app.");
    });

    it("is for admins only", async () => {
      world = await startWorld(engine);
      await world.ask("mallory", "check", /not in ghconnect's admin roster/);
    });
  });

  describe("features and unified search", () => {
    it("search needs a connection and the feature on", async () => {
      world = await startWorld(engine);
      await world.ask("mallory", "search flaky", /not connected/);
      await world.enable();
      await world.ask("mallory", "search flaky", /Unified search is off/);
      await world.ask("alice", "feature enable unified-search", /Turned on Unified search/);
      // Search runs as the person: carol links GHES (carol) and github.com (monalisa, a member of acme).
      await world.link("carol", "ghes");
      await world.link("carol", "github");
      const text = await world.ask("carol", "search flaky", /Search:/);
      expect(text).toMatch(
        /`GHES` <http:\/\/127\.0\.0\.1:\d+\/platform\/deploy\/issues\/12\|platform\/deploy#12> Flaky test in deploy pipeline/,
      );
      expect(text).toMatch(/`acme` <http:\/\/127\.0\.0\.1:\d+\/acme\/api\/issues\/101\|acme\/api#101>/);
      expect(text).not.toContain("octo-inc");
      expect(text).toContain("GHES: 2 · acme on GitHub: 2 · showing 4");
    });

    it("search with GHES down still shows GitHub's results and says which side failed", async () => {
      world = await startWorld(engine);
      await world.readyToSearch("alice");
      world.sandbox.world.inject({ host: "ghes", status: 503, pathIncludes: "/search", times: 5 });
      const text = await world.ask("alice", "search flaky", /Search:/);
      expect(text).toMatch(/⚠️ GHES \(127\.0\.0\.1:\d+\) answered 503; showing acme only\./);
      expect(text).toContain("acme/api#101");
    });

    it("search with GitHub slower than the 2 s budget shows GHES's results", async () => {
      world = await startWorld(engine);
      await world.readyToSearch("alice");
      // GitHub's search is held unanswered until after the reply: the reply cannot have waited for it.
      const held = world.sandbox.world.hold({ host: "api", pathIncludes: "/search" });
      const text = await world.ask("alice", "search flaky", /Search:/);
      await held.arrived; // GitHub was asked
      held.release();
      expect(text).toContain("⚠️ GitHub (acme) did not answer within 2 s; showing GHES only.");
      expect(text).toContain("platform/deploy#12");
    });

    it("features lists every Connect feature with its state and how it is turned on", async () => {
      world = await startWorld(engine);
      const text = await world.ask("alice", "features", /GitHub Connect features/);
      for (const name of ["unified-search", "server-statistics", "license-sync", "dependabot", "actions", "unified-contributions"])
        expect(text).toContain(`\`${name}\``);
      expect(text).toContain("GitHub offers no API for");
      // The enterprise slug is known (GHES_ENTERPRISE): the link is the real page, no placeholder.
      expect(text).toContain(`${world.sandbox.urls.ghes}/enterprises/example/settings/dotcom_connection`);
      expect(text).not.toContain("<enterprise>");
    });

    it("turning a feature on is audited and posted in the admin channel; non-admins cannot", async () => {
      world = await startWorld(engine);
      await world.enable();
      // status, asked just before (the second answer comes from its one-second view) and just
      // after, shows the change at once: the change forgets the view.
      await world.ask("alice", "status", /Connected to acme/);
      expect(await world.ask("alice", "status", /Connected to acme/)).toContain("▫️ unified-search");
      await world.ask("mallory", "feature enable unified-search", /not in ghconnect's admin roster/);
      const turnedOn = await world.ask("alice", "feature enable unified-search", /Turned on/);
      expect(turnedOn).toContain("Anyone can now run `/ghconnect search QUERY`.");
      expect(await world.ask("alice", "status", /Connected to acme/)).toContain("✅ unified-search");
      await world.card(/turned on `unified-search`/);
      await world.card(/<@U0MALLORY1> tried `feature enable unified-search`: You are not in ghconnect's admin roster/);
      const refused = (await world.bot.bot.store.audit.latest(50)).find((e) => e.action === "command.feature" && e.outcome === "refused");
      expect(refused?.target).toBe("unified-search");
    });

    it("server statistics follow one rule: turning them on and running them both need a connection; turning off does not", async () => {
      world = await startWorld(engine);
      const run = await world.ask("alice", "feature run server-statistics", /needs a connection/);
      const enable = await world.ask("alice", "feature enable server-statistics", /needs a connection/);
      const rule = "Server statistics is a GitHub Connect feature and needs a connection to GitHub; this server is not connected.";
      expect(run).toContain(rule);
      expect(enable).toContain(rule);
      expect(run).toContain("then `/ghconnect feature run server-statistics`");
      expect(await world.ask("alice", "feature disable server-statistics", /already off/)).toContain("Nothing was changed");
      expect(await world.bot.bot.store.stats.count()).toBe(0);
      expect(world.channel().some((m) => /GHES server statistics/.test(textOf(m)))).toBe(false);
      await world.card(/tried `feature run server-statistics`: Server statistics is a GitHub Connect feature/);
      expect(await world.ask("alice", "features", /GitHub Connect features/)).toContain(
        "turning one on, or running server statistics, needs a connection to GitHub; turning one off never does.",
      );
    });

    it("server statistics are posted and kept for trends", async () => {
      world = await startWorld(engine);
      await world.enable();
      await world.ask("alice", "feature run server-statistics", /Posted the server statistics/);
      const card = await world.card(/Server statistics/);
      expect(textOf(card)).toContain("Users\n212");
      await world.ask("alice", "feature run server-statistics", /Posted the server statistics/);
      const second = await eventually(() => world.channel().filter((m) => /Server statistics/.test(textOf(m)))[1]);
      expect(textOf(second)).toMatch(/Users\n212 \(\+0 since/);
      expect(await world.bot.bot.store.stats.count()).toBe(2);
    });
  });

  describe("audit", () => {
    it("shows the last entries and verifies the chain; tampering, deleting and reordering are named", async () => {
      world = await startWorld(engine);
      await world.enable();
      const last = await world.ask("alice", "audit 5", /Audit trail — newest 5 of/);
      expect(last).toMatch(/enable\.connected acme → ok/);
      expect(await world.ask("alice", "audit verify", /chain intact/)).toMatch(/✅ \d+ entries, chain intact/);

      const q = world.testDb.db.kysely;
      await sql`update audit_log set details = ${'{"tampered":true}'} where seq = 3`.execute(q);
      expect(await world.ask("alice", "audit verify", /broken/)).toContain("broken at entry #3");
      await world.card(/🚨 The audit chain is broken at entry #3/);
    });

    it("audit 50 of 200 long entries: newest first, split across blocks Slack accepts, the rest counted with the export command", async () => {
      world = await startWorld(engine);
      const store = world.bot.bot.store;
      const reason = `refused for <@U0BOB00001> on \`acme\`: ${"the proxy refused the request; ".repeat(8)}`;
      for (let i = 1; i <= 200; i++)
        await store.appendAudit({
          actor: { slack: "U0MALLORY1" },
          action: "command.enable",
          target: `org-${i}`,
          outcome: "refused",
          details: { reason },
        });
      const total = await store.audit.count();
      const since = world.mark();
      await world.command("alice", "audit 50");
      const reply = await world.privateMessage("alice", /Audit trail/, since);
      const sections = (reply.blocks as Array<{ type: string; text?: { text: string } }>).filter((b) => b.type === "section");
      expect(sections.length).toBeGreaterThan(1);
      const lines = sections.flatMap((b) => (b.text?.text ?? "").split("\n"));
      expect(lines).toHaveLength(50);
      expect(lines[0]).toContain("org-200");
      expect(lines[49]).toContain("org-151");
      for (const line of lines) {
        expect(line).toContain("<@U0BOB00001>");
        expect((line.match(/`/g) ?? []).length % 2).toBe(0);
      }
      const text = textOf(reply);
      expect(text).toContain(`Audit trail — newest 50 of ${total}`);
      expect(text).toContain(`Showing the newest 50 of ${total} entries; ${total - 50} older entries are not shown.`);
      expect(text).toContain("Export all: `npx ghconnect audit export --format jsonl > audit.jsonl`");
    });

    it("names a deleted entry and a reordered one", async () => {
      world = await startWorld(engine);
      await world.enable();
      const q = world.testDb.db.kysely;
      await sql`delete from audit_log where seq = 4`.execute(q);
      expect(await world.ask("alice", "audit verify", /broken/)).toContain("broken at entry #5");
      await sql`update audit_log set seq = 99 where seq = 2`.execute(q);
      // Read in order of seq, #1 is followed by #3: the first break is there, not at #99.
      expect(await world.ask("alice", "audit verify", /broken/)).toMatch(/broken at entry #3 \(`[^`]+`\): entry #2 is missing before it\./);
    });

    it("exports JSON Lines that verify from the file alone, also as a segment given --from-hash", async () => {
      world = await startWorld(engine);
      await world.enable();
      const dir = mkdtempSync(join(tmpdir(), "ghconnect-export-"));
      const botKey = world.bot.config.GHCONNECT_ENCRYPTION_KEY.toString("base64");
      const exported = cli(["audit", "export", "--format", "jsonl"], world.testDb.url, botKey);
      expect(exported.code).toBe(0);
      const lines = exported.out.trim().split("\n");
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      writeFileSync(join(dir, "audit.jsonl"), exported.out);
      const verified = cli(["audit", "verify", "--file", join(dir, "audit.jsonl")], "sqlite::memory:", botKey);
      expect(verified.out).toMatch(/^\d+ entries, chain intact/);
      expect(verified.code).toBe(0);
      // A segment carries its own signed head, as `audit export --since` writes it.
      const since = JSON.parse(lines[3] as string).at as string;
      const segment = cli(["audit", "export", "--since", since], world.testDb.url, botKey).out;
      writeFileSync(join(dir, "segment.jsonl"), segment);
      const fromHash = JSON.parse(segment.split("\n")[0] as string).prev_hash as string;
      expect(cli(["audit", "verify", "--file", join(dir, "segment.jsonl"), "--from-hash", fromHash], "sqlite::memory:", botKey).code).toBe(
        0,
      );
      const broken = readFileSync(join(dir, "audit.jsonl"), "utf8").replace('"outcome":"ok"', '"outcome":"refused"');
      writeFileSync(join(dir, "broken.jsonl"), broken);
      const bad = cli(["audit", "verify", "--file", join(dir, "broken.jsonl")], "sqlite::memory:", botKey);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain("chain BROKEN at entry");
    });
  });

  describe("admins", () => {
    it("lists the roster; adding checks the GHES login is a site admin now; every change is audited and posted", async () => {
      world = await startWorld(engine);
      expect(await world.ask("alice", "admins", /Admins \(3\)/)).toContain("GHES `bob`");
      await world.ask("alice", "admins add <@U0MALLORY1|mallory> dave", /`dave` is not a site administrator on GHES now/);
      world.sandbox.world.ghesUsers.find((u) => u.login === "dave")!.site_admin = true;
      await world.ask("alice", "admins add <@U0MALLORY1|mallory> dave", /Added <@U0MALLORY1>/);
      await world.card(/added <@U0MALLORY1> \(GHES `dave`\) to the ghconnect admins/);
      // The entry is pending until mallory proves the login dave by signing in to GHES.
      await world.ask("mallory", "admins remove <@U0BOB00001>", /is pending until you prove that login/);
      await world.link("mallory", "ghes");
      await world.ask("mallory", "admins remove <@U0BOB00001>", /Removed <@U0BOB00001>/);
      await world.card(/removed <@U0BOB00001>/);
    });

    it("the last admin cannot be removed", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_ADMINS: "U0ALICE001:alice" } });
      await world.ask("alice", "admins remove <@U0ALICE001>", /is the last admin and cannot be removed/);
      expect(await world.bot.bot.store.admins.count()).toBe(1);
    });
  });

  describe("the admin channel", () => {
    it("gets a line per step in the thread of the enable card, and none for status or search", async () => {
      world = await startWorld(engine);
      await world.enable();
      const card = await world.card(/Connected acme/);
      const thread = await eventually(() => {
        const replies = world.sandbox.slack.calls.filter((c) => c.method === "chat.postMessage" && c.args.thread_ts === card.ts);
        return replies.length >= 4 ? replies : undefined;
      });
      const text = thread.map((c) => String(c.args.text)).join("\n");
      expect(text).toContain("Preflight passed");
      expect(text).toContain("accepted the GitHub Connect Addendum");
      expect(text).toMatch(/App `.+` \(id \d+\) created under acme/);
      expect(text).toMatch(/Connected acme: installation \d+, installed by github.com `octocat`/);
      const topLevel = world.channel().length;
      await world.ask("alice", "status", /Connected to acme/);
      expect(world.channel().length).toBe(topLevel);
    });
  });
});
