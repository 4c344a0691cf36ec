// The commands admins use every day, and what the auditor reads.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, messageText } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

function cli(args: string[], databaseUrl: string) {
  const r = spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl, DOTENV_CONFIG_PATH: "/nonexistent" },
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

  async function ask(user: "alice" | "bob" | "carol" | "mallory", text: string, match: RegExp) {
    const since = world.mark();
    await world.command(user, text);
    return textOf(await world.privateMessage(user, match, since));
  }

  describe("status", () => {
    it("without a connection says so and how to connect", async () => {
      world = await startWorld(engine);
      const text = await ask("alice", "status", /Not connected/);
      expect(text).toContain("/ghconnect enable ORG");
    });

    it("with a connection: account, since, by whom, app, token expiry, features — and no GitHub call while fresh", async () => {
      world = await startWorld(engine);
      await world.enable();
      const first = await ask("alice", "status", /Connected to acme/);
      expect(first).toMatch(/Since\n\d{4}-\d\d-\d\d/);
      expect(first).toContain("github.com `octocat`");
      expect(first).toMatch(/Installation token\nexpires .+ \(in (59|60) min\)/);
      expect(first).toContain("Example Corp, expires 2027-06-30");
      const { api, ghes, web } = world.sandbox.routers;
      const before = api.received.length + ghes.received.length + web.received.length;
      for (let i = 0; i < 5; i++) await ask("mallory", "status", /Connected to acme/);
      expect(api.received.length + ghes.received.length + web.received.length).toBe(before);
    });

    it("is answered inside Slack's ack while fresh, audited once even when Slack retries; stale, it asks GHES first and answers after the ack", async () => {
      world = await startWorld(engine);
      await world.enable();
      const { driver, bot } = world.bot;
      const audited = async () =>
        Number(
          (await sql<{ n: number }>`select count(*) as n from audit_log where action = 'command.status'`.execute(bot.store.db.kysely))
            .rows[0]?.n,
        );
      // The first look after connecting asks GHES for its version (after the ack).
      const firstLook = await driver.command("U0ALICE001", "status");
      expect(firstLook.ack).toBeUndefined();
      await eventually(async () => (await audited()) === 1);
      const request = driver.commandRequest("U0ALICE001", "status");
      const first = await driver.send(request);
      // The answer is the ack's body: nothing goes through response_url.
      expect(messageText(first.ack as object)).toContain("Connected to acme");
      const retry = await driver.retry(request, 1);
      expect(messageText(retry.ack as object)).toContain("Connected to acme");
      const answeredLater = () =>
        world.sandbox.slack.messages.filter((m) => m.via === "response_url" && /Connected to acme/.test(messageText(m))).length;
      await eventually(async () => (await audited()) === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(await audited()).toBe(2);
      expect(answeredLater()).toBe(1); // only the first look

      // Five minutes on, the last look at GHES is stale: the ack is empty, GHES is asked, and the
      // answer comes through response_url.
      world.sandbox.world.advance(6 * 60_000);
      const versionCalls = () => world.sandbox.routers.ghes.received.filter((r) => /\/meta$/.test(r.path)).length;
      const callsBefore = versionCalls();
      const stale = await driver.command("U0ALICE001", "status");
      expect(stale.ack).toBeUndefined();
      await eventually(() => answeredLater() === 2);
      expect(versionCalls()).toBe(callsBefore + 1);
      await eventually(async () => (await audited()) === 3);
    });

    it("warns when the token has expired and when GHES's version changed since connecting", async () => {
      world = await startWorld(engine);
      await world.enable();
      world.sandbox.world.ghesVersion = "3.20.0";
      world.sandbox.world.advance(61 * 60_000);
      const text = await ask("alice", "status", /Connected to acme/);
      expect(text).toMatch(/⚠️ expired at/);
      expect(text).toContain("⚠️ 3.19.2 at connect, 3.20.0 now");
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
      const text = await ask("alice", "check", /all checks pass|failed/);
      for (const name of ["Config", "Database", "Slack", "GHES", "License", "github.com", "API", "uploads", "Clock"])
        expect(text).toContain(`✅ ${name}`);
      expect(await world.bot.bot.store.operations.inFlight()).toBeUndefined();
    });

    it("reports each failure with what to do", async () => {
      world = await startWorld(engine);
      world.sandbox.world.managePassword = "changed";
      world.sandbox.world.inject({ host: "uploads", status: 0, delayMs: 0, times: 0 });
      const text = await ask("alice", "doctor", /check/);
      expect(text).toContain("❌ License: The Management Console API");
      expect(text).toContain("→ Set GHES_MANAGE_PASSWORD");
      expect(text).toMatch(/❌ 1 check failed/);
    });

    it("warns when this host's clock is off from GitHub's, and fails a missing Slack scope", async () => {
      world = await startWorld(engine);
      world.sandbox.world.clockOffsetMs = 45_000; // the bot's clock (it follows the sandbox's) runs 45 s ahead
      world.sandbox.slack.scopes = ["commands"];
      const text = await ask("alice", "check", /check/);
      expect(text).toMatch(/⚠️ Clock: this host's clock is 4\d s ahead of GitHub's/);
      expect(text).toContain("→ Sync the clock with NTP");
      expect(text).toContain("❌ Slack scopes: the bot token lacks chat:write");
      expect(text).toContain("→ Add the scopes in manifest.yml and reinstall the app.");
    });

    it("is for admins only", async () => {
      world = await startWorld(engine);
      await ask("mallory", "check", /not in ghconnect's admin roster/);
    });
  });

  describe("features and unified search", () => {
    it("search needs a connection and the feature on", async () => {
      world = await startWorld(engine);
      await ask("mallory", "search flaky", /not connected/);
      await world.enable();
      await ask("mallory", "search flaky", /Unified search is off/);
      await ask("alice", "feature enable unified-search", /Turned on Unified search/);
      const text = await ask("mallory", "search flaky", /Search:/);
      expect(text).toMatch(
        /`GHES` <http:\/\/127\.0\.0\.1:\d+\/platform\/deploy\/issues\/12\|platform\/deploy#12> Flaky test in deploy pipeline/,
      );
      expect(text).toMatch(/`acme` <http:\/\/127\.0\.0\.1:\d+\/acme\/api\/issues\/101\|acme\/api#101>/);
      expect(text).not.toContain("octo-inc");
      expect(text).toContain("GHES: 2 · acme on GitHub: 2 · showing 4");
    });

    it("search with GHES down still shows GitHub's results and says which side failed", async () => {
      world = await startWorld(engine);
      await world.enable();
      await ask("alice", "feature enable unified-search", /Turned on/);
      world.sandbox.world.inject({ host: "ghes", status: 503, pathIncludes: "/search", times: 5 });
      const text = await ask("alice", "search flaky", /Search:/);
      expect(text).toMatch(/⚠️ GHES \(127\.0\.0\.1:\d+\) answered 503; showing acme only\./);
      expect(text).toContain("acme/api#101");
    });

    it("search with GitHub slower than the 2 s budget shows GHES's results", async () => {
      world = await startWorld(engine);
      await world.enable();
      await ask("alice", "feature enable unified-search", /Turned on/);
      world.sandbox.world.inject({ host: "api", delayMs: 3000, pathIncludes: "/search" });
      const started = Date.now();
      const text = await ask("alice", "search flaky", /Search:/);
      expect(text).toContain("⚠️ GitHub (acme) did not answer within 2 s; showing GHES only.");
      expect(text).toContain("platform/deploy#12");
      expect(Date.now() - started).toBeLessThan(4500);
    });

    it("features lists every Connect feature with its state and how it is turned on", async () => {
      world = await startWorld(engine);
      const text = await ask("alice", "features", /GitHub Connect features/);
      for (const name of ["unified-search", "server-statistics", "license-sync", "dependabot", "actions", "unified-contributions"])
        expect(text).toContain(`\`${name}\``);
      expect(text).toContain("GitHub offers no API for");
      expect(text).toContain(`${world.sandbox.urls.ghes}/enterprises/<enterprise>/settings/dotcom_connection`);
    });

    it("turning a feature on is audited and posted in the admin channel; non-admins cannot", async () => {
      world = await startWorld(engine);
      await world.enable();
      // status, asked just before (the second answer comes from its one-second view) and just
      // after, shows the change at once: the change forgets the view.
      await ask("alice", "status", /Connected to acme/);
      expect(await ask("alice", "status", /Connected to acme/)).toContain("▫️ license-sync");
      await ask("mallory", "feature enable license-sync", /not in ghconnect's admin roster/);
      const turnedOn = await ask("alice", "feature enable license-sync", /GitHub has no API for this setting/);
      expect(turnedOn).toContain("/enterprises/<enterprise>/settings/dotcom_connection");
      expect(await ask("alice", "status", /Connected to acme/)).toContain("✅ license-sync");
      await world.card(/turned on `license-sync`/);
      await world.card(/<@U0MALLORY1> tried `feature`/);
    });

    it("server statistics are posted and kept for trends", async () => {
      world = await startWorld(engine);
      await world.enable();
      await ask("alice", "feature run server-statistics", /Posted the server statistics/);
      const card = await world.card(/Server statistics/);
      expect(textOf(card)).toContain("Users\n212");
      await ask("alice", "feature run server-statistics", /Posted the server statistics/);
      const second = await eventually(() => world.channel().filter((m) => /Server statistics/.test(textOf(m)))[1]);
      expect(textOf(second)).toMatch(/Users\n212 \(\+0 since/);
      expect(await world.bot.bot.store.stats.count()).toBe(2);
    });
  });

  describe("audit", () => {
    it("shows the last entries and verifies the chain; tampering, deleting and reordering are named", async () => {
      world = await startWorld(engine);
      await world.enable();
      const last = await ask("alice", "audit 5", /Audit trail \(last 5\)/);
      expect(last).toMatch(/enable\.connected acme → ok/);
      expect(await ask("alice", "audit verify", /chain intact/)).toMatch(/✅ \d+ entries, chain intact/);

      const q = world.testDb.db.kysely;
      await sql`update audit_log set details = ${'{"tampered":true}'} where seq = 3`.execute(q);
      expect(await ask("alice", "audit verify", /broken/)).toContain("broken at entry #3");
      await world.card(/🚨 The audit chain is broken at entry #3/);
    });

    it("names a deleted entry and a reordered one", async () => {
      world = await startWorld(engine);
      await world.enable();
      const q = world.testDb.db.kysely;
      await sql`delete from audit_log where seq = 4`.execute(q);
      expect(await ask("alice", "audit verify", /broken/)).toContain("broken at entry #5");
      await sql`update audit_log set seq = 99 where seq = 2`.execute(q);
      expect(await ask("alice", "audit verify", /broken/)).toMatch(/broken at entry #(3|99)/);
    });

    it("exports JSON Lines that verify from the file alone, also as a --since segment", async () => {
      world = await startWorld(engine);
      await world.enable();
      const dir = mkdtempSync(join(tmpdir(), "ghconnect-export-"));
      const exported = cli(["audit", "export", "--format", "jsonl"], world.testDb.url);
      expect(exported.code).toBe(0);
      const lines = exported.out.trim().split("\n");
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      writeFileSync(join(dir, "audit.jsonl"), exported.out);
      const verified = cli(["audit", "verify", "--file", join(dir, "audit.jsonl")], "sqlite::memory:");
      expect(verified.out).toMatch(/^\d+ entries, chain intact/);
      expect(verified.code).toBe(0);
      const segment = lines.slice(3).join("\n");
      writeFileSync(join(dir, "segment.jsonl"), segment);
      expect(cli(["audit", "verify", "--file", join(dir, "segment.jsonl")], "sqlite::memory:").code).toBe(0);
      const broken = readFileSync(join(dir, "audit.jsonl"), "utf8").replace('"outcome":"ok"', '"outcome":"refused"');
      writeFileSync(join(dir, "broken.jsonl"), broken);
      const bad = cli(["audit", "verify", "--file", join(dir, "broken.jsonl")], "sqlite::memory:");
      expect(bad.code).toBe(1);
      expect(bad.out).toContain("chain BROKEN at entry");
    });
  });

  describe("admins", () => {
    it("lists the roster; adding checks the GHES login is a site admin now; every change is audited and posted", async () => {
      world = await startWorld(engine);
      expect(await ask("alice", "admins", /Admins \(3\)/)).toContain("GHES `bob`");
      await ask("alice", "admins add <@U0MALLORY1|mallory> dave", /`dave` is not a site administrator on GHES now/);
      world.sandbox.world.ghesUsers.find((u) => u.login === "dave")!.site_admin = true;
      await ask("alice", "admins add <@U0MALLORY1|mallory> dave", /Added <@U0MALLORY1>/);
      await world.card(/added <@U0MALLORY1> \(GHES `dave`\) to the ghconnect admins/);
      await ask("mallory", "admins remove <@U0BOB00001>", /Removed <@U0BOB00001>/);
      await world.card(/removed <@U0BOB00001>/);
    });

    it("the last admin cannot be removed", async () => {
      world = await startWorld(engine, { env: { GHCONNECT_ADMINS: "U0ALICE001:alice" } });
      await ask("alice", "admins remove <@U0ALICE001>", /is the last admin and cannot be removed/);
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
      await ask("alice", "status", /Connected to acme/);
      expect(world.channel().length).toBe(topLevel);
    });
  });
});
