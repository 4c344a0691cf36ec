// An outsider's and an unlucky operator's review of the trust promises (issue 14, SPEC §3–§5, §7):
// each test is named after the promise it breaks and does what an attacker would do, through the
// sandbox, then asserts what the promise says an admin or an auditor would see.
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/core/audit.js";
import { signHead } from "../../src/core/audit-head.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

async function auditEntries(world: World): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const e of world.bot.bot.store.audit.all()) entries.push(e);
  return entries;
}

/** A host the attacker controls: it records every request the bot sends it. */
async function attackerHost(): Promise<{
  url: string;
  hits: Array<{ method: string; path: string; body: string }>;
  close(): Promise<void>;
}> {
  const hits: Array<{ method: string; path: string; body: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      hits.push({ method: req.method ?? "", path: req.url ?? "", body });
      res.writeHead(200);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const ENCRYPTION_KEY = randomBytes(32).toString("base64");

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", DATABASE_URL: "sqlite::memory:", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each(ENGINES)("attack review (%s)", (engine) => {
  let world: World;
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
    await world?.close();
  });

  const q = () => world.testDb.db.kysely;

  it("§3 audit verify compares with the newest witness: 1000 messages posted in the admin channel do not hide it, so deleted entries are still named", async () => {
    world = await startWorld(engine);
    await world.enable();
    const since = world.mark();
    await world.command("alice", "feature enable license-sync");
    await world.privateMessage("alice", /Turned on/, since);
    const rows = await sql<{ seq: number }>`select max(seq) as seq from audit_log where action = 'feature.enabled'`.execute(q());
    const featureSeq = Number(rows.rows[0]?.seq);
    await eventually(() => world.sandbox.slack.messages.find((m) => m.metadata?.event_payload.seq === featureSeq));

    // Anyone in the admin channel (or any app in it) buries the bot's lines under ordinary messages…
    for (let i = 0; i < 1001; i++) world.sandbox.slack.postAs(SANDBOX_USERS.mallory.slack, SANDBOX_ADMIN_CHANNEL, `noise ${i}`);
    // …and whoever has the database deletes the newest entries.
    await sql`delete from audit_log where seq >= ${featureSeq - 1}`.execute(q());

    const asked = world.mark();
    await world.command("alice", "audit verify");
    const reply = textOf(await world.privateMessage("alice", /chain intact/, asked));
    expect(reply).toContain(`❌ Entries ${featureSeq - 1}–${featureSeq} are missing`);
  });

  it("§3 audit verify compares with the newest witness: a newer witness in an older card's thread is read, not one older top-level line", async () => {
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
    const rows = await sql<{ seq: number }>`select seq from audit_log where action = 'enable.connected'`.execute(q());
    const connectedSeq = Number(rows.rows[0]?.seq);
    expect(connectedSeq).toBeGreaterThan(topSeq);
    await eventually(() => world.sandbox.slack.messages.find((m) => m.metadata?.event_payload.seq === connectedSeq));

    // Whoever has the database deletes everything after the top-level line: the connection's story.
    await sql`delete from audit_log where seq > ${topSeq}`.execute(q());
    const asked = world.mark();
    await world.command("alice", "audit verify");
    const reply = textOf(await world.privateMessage("alice", /chain intact/, asked));
    expect(reply).toContain(`the admin channel saw ${connectedSeq}.`);
  });

  it("§7 the bot only posts to Slack: a click's response_url pointing at another host gets no request from the bot", async () => {
    world = await startWorld(engine);
    const attacker = await attackerHost();
    cleanup.push(attacker.close);
    const driver = world.bot.driver;
    const card = { channel: SANDBOX_ADMIN_CHANNEL, ts: "1.000001", blocks: [], text: "an old card" };
    // A correctly signed click (as Slack would sign it), whose response_url names the attacker's host.
    const forged = driver.clickRequest(SANDBOX_USERS.mallory.slack, card, "enable.cancel", "no-such-operation");
    const payload = JSON.parse(new URLSearchParams(forged.body).get("payload") as string);
    payload.response_url = `${attacker.url}/hooks/steal`;
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    // Answered or refused at the gate: either way the bot must not POST to that host.
    await driver.send(driver.sign({ ...forged, body }));

    // The same click with Slack's own response_url: its answer arriving means the bot has answered both.
    const since = world.mark();
    const genuine = driver.clickRequest(SANDBOX_USERS.mallory.slack, card, "enable.cancel", "no-such-operation-2");
    expect((await driver.send(genuine)).status).toBe(200);
    await world.privateMessage("mallory", /no longer exists/, since);
    expect(attacker.hits).toEqual([]);
  });

  it("§1 a request to the setup page without a valid state records its refusal: a malformed state is audited like a forged one", async () => {
    world = await startWorld(engine);
    await world.enableUntilGitHub();
    const before = (await auditEntries(world)).length;
    // A state GitHub never carries (not URL-token characters): the page says 400, nothing changes…
    const response = await fetch(`${world.bot.url}/ghconnect/github/setup?code=junk&installation_id=1&state=${encodeURIComponent("<x>")}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Nothing was changed");
    // …and the refusal is on the audit trail, as for a well-formed forged state.
    await world.bot.bot.enable.flushRefusals();
    const refused = (await auditEntries(world)).slice(before).filter((e) => e.action === "enable.setup_refused");
    expect(refused).toHaveLength(1);
  });

  it("§3 an export cut short no longer verifies: on the bot's host, a head re-signed with another key is refused", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY } });
    await world.enable();
    const exported = cli(["audit", "export"], { DATABASE_URL: world.testDb.url, GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY });
    expect(exported.code).toBe(0);
    const entries = exported.out
      .trim()
      .split("\n")
      .slice(0, -1)
      .map((l) => JSON.parse(l) as AuditEntry);
    // Whoever holds the file drops the connection's last entries and signs a new head with a key of their own.
    const kept = entries.slice(0, -2);
    const { privateKey } = generateKeyPairSync("ed25519");
    const head = signHead({ first: kept[0], last: kept[kept.length - 1], count: kept.length, now: new Date(), key: privateKey });
    const path = join(mkdtempSync(join(tmpdir(), "attack-")), "cut.jsonl");
    writeFileSync(path, `${[...kept.map((e) => JSON.stringify(e)), JSON.stringify(head)].join("\n")}\n`);
    // The auditor checks it where the bot's key is known (the bot's host, the same environment as the export).
    const verified = cli(["audit", "verify", "--file", path], { GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY });
    expect(verified.out).not.toContain("signed head verifies");
    expect(verified.code).toBe(1);
  });
});
