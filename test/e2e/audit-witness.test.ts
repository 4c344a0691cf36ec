// The admin channel witnesses the audit chain: an attacker with the database who deletes the newest
// entries, or restores an older copy and lets it grow again, is caught by `audit verify`, in Slack
// and in the CLI, because the bot's own lines in the channel carry each entry's seq and hash.
import { execFile } from "node:child_process";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

describe.each(ENGINES)("audit witness in the admin channel (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  const q = () => world.testDb.db.kysely;
  async function entry(action: string) {
    const rows = await sql<{
      seq: number;
      hash: string;
    }>`select seq, hash from audit_log where action = ${action} order by seq desc`.execute(q());
    const row = rows.rows[0];
    if (!row) throw new Error(`no ${action} entry`);
    return { seq: Number(row.seq), hash: row.hash };
  }
  async function dbEnd() {
    const rows = await sql<{ n: number }>`select max(seq) as n from audit_log`.execute(q());
    return Number(rows.rows[0]?.n);
  }

  /** Connects acme and turns a feature on: the channel's newest witness is `feature.enabled`. */
  async function connectedWithFeature() {
    world = await startWorld(engine);
    await world.enable();
    await world.ask("alice", "feature enable unified-search", /Turned on/);
    const feature = await entry("feature.enabled");
    // The line is posted after its transaction commits; wait until the channel shows it.
    const line = await world.card(/turned on `unified-search`/);
    expect(textOf(line)).toContain(`#${feature.seq} · ${feature.hash.slice(0, 8)}…`);
    return feature;
  }

  it("each posted line carries its entry's seq and hash, for people and as metadata; verify says the channel matches", async () => {
    const feature = await connectedWithFeature();
    const line = await world.card(/turned on `unified-search`/);
    expect(line.metadata).toEqual({ event_type: "ghconnect_audit", event_payload: { seq: feature.seq, hash: feature.hash } });
    // The enable's steps are in the card's thread, witnessed the same way.
    const connected = await entry("enable.connected");
    const reply = world.sandbox.slack.messages.find((m) => m.threadTs && m.metadata?.event_payload.seq === connected.seq);
    expect(reply && textOf(reply)).toContain(`#${connected.seq} · ${connected.hash.slice(0, 8)}…`);

    const text = await world.ask("alice", "audit verify", /chain intact/);
    expect(text).toContain(
      `✅ The admin channel's newest witness, entry ${feature.seq} (${feature.hash.slice(0, 8)}…), matches the database.`,
    );
    const verified = await entry("audit.verify");
    const details = await sql<{
      details: string;
      outcome: string;
    }>`select details, outcome from audit_log where seq = ${verified.seq}`.execute(q());
    expect(details.rows[0]?.outcome).toBe("ok");
    expect(JSON.parse(details.rows[0]?.details ?? "{}")).toMatchObject({ witness: "matches", witness_seq: feature.seq });
  });

  it("deleting the newest entries is named: which entries are missing, where the database ends, what the channel saw", async () => {
    const feature = await connectedWithFeature();
    // An attacker with the database removes the feature change and the entry before it.
    await sql`delete from audit_log where seq >= ${feature.seq - 1}`.execute(q());
    const text = await world.ask("alice", "audit verify", /missing/);
    // What is left is still a valid chain: only the witness can tell.
    expect(text).toMatch(/✅ \d+ entries, chain intact/);
    expect(text).toContain(
      `❌ Entries ${feature.seq - 1}–${feature.seq} are missing: the database ends at ${feature.seq - 2}, the admin channel saw ${feature.seq}.`,
    );
    expect(text).toContain("this means the database was changed outside it");
    const alarm = await world.card(/🚨 The audit trail does not match the admin channel/);
    expect(textOf(alarm)).toContain(`Entries ${feature.seq - 1}–${feature.seq} are missing`);
    const verified = await entry("audit.verify");
    const row = await sql<{ outcome: string }>`select outcome from audit_log where seq = ${verified.seq}`.execute(q());
    expect(row.rows[0]?.outcome).toBe("failed");
  });

  it("deleting the enable's last steps is caught from the witnesses in the card's thread", async () => {
    world = await startWorld(engine);
    await world.enable();
    const connected = await entry("enable.connected");
    await eventually(() => world.sandbox.slack.messages.find((m) => m.metadata?.event_payload.seq === connected.seq));
    await sql`delete from audit_log where seq >= ${connected.seq}`.execute(q());
    const text = await world.ask("alice", "audit verify", /missing/);
    expect(text).toContain(
      `❌ Entry ${connected.seq} is missing: the database ends at ${connected.seq - 1}, the admin channel saw ${connected.seq}.`,
    );
  });

  it("1001 messages posted after the bot's last line do not hide its witness: the deleted newest entries are still named", async () => {
    const feature = await connectedWithFeature();
    // Anyone in the admin channel (or any app in it) buries the bot's lines under ordinary messages…
    for (let i = 0; i < 1001; i++) world.sandbox.slack.postAs(SANDBOX_USERS.mallory.slack, SANDBOX_ADMIN_CHANNEL, `noise ${i}`);
    // …and whoever has the database deletes the newest entries.
    await sql`delete from audit_log where seq >= ${feature.seq - 1}`.execute(q());
    const text = await world.ask("alice", "audit verify", /chain intact/);
    expect(text).toContain(
      `❌ Entries ${feature.seq - 1}–${feature.seq} are missing: the database ends at ${feature.seq - 2}, the admin channel saw ${feature.seq}.`,
    );
  });

  it("a newer witness in an older card's thread is read beyond a newer top-level line: deleting the enable's story after that line is named, not 'matches'", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    // The channel moves on while the enable waits on GitHub: a hundred-odd ordinary messages…
    for (let i = 0; i < 120; i++) world.sandbox.slack.postAs(SANDBOX_USERS.mallory.slack, SANDBOX_ADMIN_CHANNEL, `chatter ${i}`);
    // …then one top-level witnessed line (here: a refused attempt by someone not an admin).
    const since = world.mark();
    await world.command("mallory", "enable acme");
    const refusedLine = await world.card(/tried `enable/, since);
    const topSeq = Number(refusedLine.metadata?.event_payload.seq);
    // The enable completes: its steps are witnessed in the (now old) card's thread.
    const page = await world.browse("alice", link);
    expect(page.text).toContain("Connected acme");
    const connected = await entry("enable.connected");
    expect(connected.seq).toBeGreaterThan(topSeq);
    await eventually(() => world.sandbox.slack.messages.find((m) => m.metadata?.event_payload.seq === connected.seq));

    // Whoever has the database deletes everything after the top-level line: the connection's story.
    await sql`delete from audit_log where seq > ${topSeq}`.execute(q());
    const text = await world.ask("alice", "audit verify", /chain intact/);
    expect(text).toContain(
      `❌ Entries ${topSeq + 1}–${connected.seq} are missing: the database ends at ${topSeq}, the admin channel saw ${connected.seq}.`,
    );
  });

  it("with every bot line gone from the channel while the database holds posted entries, verify fails as inconclusive instead of 'no witness yet'", async () => {
    const feature = await connectedWithFeature();
    // Someone with Slack admin rights deletes the bot's lines (and whoever has the database the newest entries).
    const sandboxMessages = world.sandbox.slack.messages;
    const kept = sandboxMessages.filter((m) => m.channel !== SANDBOX_ADMIN_CHANNEL);
    sandboxMessages.splice(0, sandboxMessages.length, ...kept);
    await sql`delete from audit_log where seq >= ${feature.seq - 1}`.execute(q());
    const text = await world.ask("alice", "audit verify", /chain intact/);
    expect(text).toContain("❌ Inconclusive: the admin channel shows no witness although");
    expect(text).toContain("so deleted newest entries cannot be ruled out");
    const verified = await entry("audit.verify");
    const row = await sql<{ outcome: string }>`select outcome from audit_log where seq = ${verified.seq}`.execute(q());
    expect(row.rows[0]?.outcome).toBe("failed");
  });

  it("an older database restored and grown again is named at the first entry that differs from the channel", async () => {
    const feature = await connectedWithFeature();
    await sql`delete from audit_log where seq >= ${feature.seq}`.execute(q());
    // The restored copy goes on recording: new entries take the same numbers, with other hashes.
    const attacker = new Store(world.testDb.db, () => new Date(), new NoKeyBox());
    for (let i = 0; i < 3; i++) await attacker.appendAudit({ actor: { slack: "U0ALICE001" }, action: "command.help", outcome: "ok" });
    expect(await dbEnd()).toBeGreaterThanOrEqual(feature.seq);
    const text = await world.ask("alice", "audit verify", /not the one/);
    expect(text).toMatch(/✅ \d+ entries, chain intact/);
    expect(text).toContain(`❌ Entry ${feature.seq} is not the one the admin channel saw`);
    expect(text).toContain(
      `${feature.hash.slice(0, 8)}… in the channel): the database was rolled back or rewritten from entry ${feature.seq} or earlier.`,
    );
  });

  it("only the bot's own lines are witnesses: a pasted look-alike or another app's metadata is ignored", async () => {
    const feature = await connectedWithFeature();
    const forged = { seq: feature.seq + 50, hash: "f".repeat(64) };
    world.sandbox.slack.postAs("U0MALLORY1", SANDBOX_ADMIN_CHANNEL, `⚙️ turned on \`x\`.\n#${forged.seq} · ffffffff…`);
    world.sandbox.slack.postAs("U0MALLORY1", SANDBOX_ADMIN_CHANNEL, "look-alike", {
      metadata: { event_type: "ghconnect_audit", event_payload: forged },
    });
    world.sandbox.slack.postAs("UOTHERAPP1", SANDBOX_ADMIN_CHANNEL, "another app", {
      botId: "BOTHERAPP01",
      metadata: { event_type: "ghconnect_audit", event_payload: forged },
    });
    const text = await world.ask("alice", "audit verify", /chain intact/);
    expect(text).toContain(
      `✅ The admin channel's newest witness, entry ${feature.seq} (${feature.hash.slice(0, 8)}…), matches the database.`,
    );
  });

  it("an unreadable channel is said, with the fix, and the chain is still checked; check fails the same way", async () => {
    world = await startWorld(engine);
    world.sandbox.slack.scopes = ["commands", "chat:write"];
    const text = await world.ask("alice", "audit verify", /could not be read/);
    expect(text).toMatch(/✅ \d+ entries, chain intact/);
    expect(text).toContain(
      "⚠️ The admin channel could not be read (the bot token lacks channels:history), so deleted newest entries or a restored older database would go unnoticed.",
    );
    expect(text).toContain(
      "Add channels:history (groups:history for a private channel) to the bot scopes in manifest.yml and reinstall the app.",
    );
    const check = await world.ask("alice", "check", /ghconnect check/);
    expect(check).toContain(`❌ Audit witness: cannot read <#${SANDBOX_ADMIN_CHANNEL}>: the bot token lacks channels:history`);

    world.sandbox.slack.scopes = ["commands", "chat:write", "channels:history", "groups:history"];
    world.sandbox.slack.botNotIn.add(SANDBOX_ADMIN_CHANNEL);
    const notIn = await world.ask("alice", "audit verify", /could not be read/);
    expect(notIn).toContain(`the bot is not a member of <#${SANDBOX_ADMIN_CHANNEL}>`);
    expect(notIn).toContain(`Invite it: \`/invite @ghconnect\` in <#${SANDBOX_ADMIN_CHANNEL}>.`);
  });

  it("check passes when the bot reads the channel", async () => {
    await connectedWithFeature();
    const check = await world.ask("alice", "check", /ghconnect check/);
    expect(check).toMatch(new RegExp(`✅ Audit witness: the bot reads <#${SANDBOX_ADMIN_CHANNEL}>; its newest audit line is entry \\d+`));
  });

  it("the CLI's audit verify reads the channel with the bot's Slack settings and names the gap", async () => {
    const feature = await connectedWithFeature();
    await sql`delete from audit_log where seq >= ${feature.seq}`.execute(q());
    const env = world.sandbox.env();
    // Asynchronously: the Slack stand-in answering the CLI runs in this process.
    const r = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["bin/ghconnect.js", "audit", "verify"],
        {
          env: {
            PATH: process.env.PATH ?? "",
            DATABASE_URL: world.testDb.url,
            DOTENV_CONFIG_PATH: "/nonexistent",
            SLACK_BOT_TOKEN: env.SLACK_BOT_TOKEN as string,
            SLACK_API_URL: env.SLACK_API_URL as string,
            SLACK_ADMIN_CHANNEL: SANDBOX_ADMIN_CHANNEL,
          },
          encoding: "utf8",
          timeout: 30_000,
        },
        (_error, stdout) => resolve({ status: child.exitCode, stdout }),
      );
    });
    expect(r.stdout).toContain(
      `Entry ${feature.seq} is missing: the database ends at ${feature.seq - 1}, the admin channel saw ${feature.seq}.`,
    );
    expect(r.status).toBe(1);
    // Found from the terminal, the failure is posted to the admin channel all the same.
    const alarm = await world.card(/🚨 The audit trail does not match the admin channel/);
    expect(textOf(alarm)).toContain(`Entry ${feature.seq} is missing`);
    // The CLI's verification is audited like the Slack one.
    const verified = await entry("audit.verify");
    expect(verified.seq).toBe(feature.seq);
  });
});
