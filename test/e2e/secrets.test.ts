// Secrets never leak: after a whole enable → search → disable, none of them is found in the
// database (raw bytes), the logs, any Slack message, any audit entry or any HTTP response.
import { spawnSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { keyId } from "../../src/db/secret-box.js";
import { sandboxBotEnv } from "../../src/sandbox/bot.js";
import { ENGINES } from "../helpers/db.js";
import { capturedLog, startWorld, textOf, type World } from "../helpers/world.js";

function rawDatabase(world: World): Promise<string> | string {
  if (world.testDb.url.startsWith("sqlite:")) {
    const path = world.testDb.url.slice("sqlite:".length);
    const read = (p: string) => {
      try {
        return readFileSync(p).toString("latin1");
      } catch {
        return "";
      }
    };
    return read(path) + read(`${path}-wal`);
  }
  return (async () => {
    let out = "";
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = ${world.testDb.schema}`.execute(world.testDb.db.kysely);
    for (const { table_name } of tables.rows)
      out += JSON.stringify((await sql`select * from ${sql.table(table_name)}`.execute(world.testDb.db.kysely)).rows);
    return out;
  })();
}

describe.each(ENGINES)("secrets (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("after enable → search → disable, no secret is anywhere: database, logs, Slack, audit, HTTP responses", async () => {
    const { log, lines: logs } = capturedLog("debug");
    world = await startWorld(engine, { log });
    const responses: string[] = [];
    const page = await world.enable();
    responses.push(page.html, page.text);
    await world.command("alice", "feature enable unified-search");
    await world.privateMessage("alice", /Turned on Unified search/);
    const since = world.mark();
    const search = await world.bot.driver.command("U0ALICE001", "search flaky");
    responses.push(JSON.stringify(search.ack));
    await world.privateMessage("alice", /Search:/, since);
    await world.command("alice", "disable acme");
    const card = structuredClone(await world.card(/Disconnect acme\?[\s\S]*Approving will/));
    await world.click("bob", card, "disable.approve");
    await world.card(/Disconnected acme/);
    for (const url of [`${world.bot.url}/healthz`, world.bot.metricsUrl]) responses.push(await (await fetch(url)).text());

    const w = world.sandbox.world;
    const env = world.bot.config;
    const secrets: Record<string, string> = {
      "private key": w.apps[0]!.pem.split("\n")[2] as string,
      "client secret": w.apps[0]!.clientSecret,
      "webhook secret": w.apps[0]!.webhookSecret as string,
      "installation token": w.tokens[0]!.token,
      "user token": [...w.userTokens.keys()][0] as string,
      "GHES token": env.GHES_TOKEN,
      "Manage password": env.GHES_MANAGE_PASSWORD as string,
      "Slack bot token": env.SLACK_BOT_TOKEN,
      "signing secret": env.SLACK_SIGNING_SECRET,
      "encryption key": env.GHCONNECT_ENCRYPTION_KEY.toString("base64"),
    };
    const audit: unknown[] = [];
    for await (const e of world.bot.bot.store.audit.all()) audit.push(e);
    const places: Record<string, string> = {
      database: await rawDatabase(world),
      logs: logs.join(""),
      "Slack messages": world.sandbox.slack.messages.map((m) => textOf(m) + JSON.stringify(m.blocks)).join("\n"),
      "Slack API calls": JSON.stringify(world.sandbox.slack.calls.map((c) => c.args)),
      audit: JSON.stringify(audit),
      "HTTP responses": responses.join("\n"),
    };
    // The places scanned really hold this run's data (so a leak there would be seen).
    expect(logs.length).toBeGreaterThan(10);
    if (engine === "postgres") expect(places.database).toContain(w.apps[0]!.slug);
    expect(places.audit).toContain("disable.done");
    expect(places["Slack messages"]).toContain("Disconnected acme");
    expect(places["HTTP responses"]).toContain("Connected acme");
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places))
      for (const [name, secret] of Object.entries(secrets)) if (secret && text.includes(secret)) leaks.push(`${name} in ${place}`);
    expect(leaks).toEqual([]);
  });
});

/** `ghconnect …` as an operator runs it: only the environment given, no .env. */
function cli(args: string[], env: Record<string, string>, input?: string) {
  return spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", ...env },
    encoding: "utf8",
    input: input ?? "",
  });
}

async function storedKeyIds(world: World): Promise<string[]> {
  const rows = await world.testDb.db.kysely.selectFrom("credentials").select("key_id").distinct().execute();
  return rows.map((r) => r.key_id);
}

async function auditOf(world: World, action: string) {
  const out: Array<{ outcome: string; details: Record<string, unknown> }> = [];
  for await (const e of world.bot.bot.store.audit.all()) if (e.action === action) out.push(e);
  return out;
}

describe.each(ENGINES)("changing the encryption key while replicas run (%s)", (engine) => {
  let world: World;
  const others: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const bot of others.splice(0)) await bot.stop().catch(() => {});
    await world?.close();
  });

  it("replicas restarted with the new key and the old one keep reading each other's writes, before and after rotate-key; then the old key alone cannot start", async () => {
    world = await startWorld(engine);
    await world.enable();
    const oldKey = world.bot.config.GHCONNECT_ENCRYPTION_KEY.toString("base64");
    const newKey = randomBytes(32).toString("base64");
    const oldId = keyId(Buffer.from(oldKey, "base64"));
    const newId = keyId(Buffer.from(newKey, "base64"));
    const { startBotOnSandbox } = await import("../../src/sandbox/bot.js");
    const changeover = { GHCONNECT_ENCRYPTION_KEY: newKey, GHCONNECT_PREVIOUS_ENCRYPTION_KEY: oldKey };
    const newestToken = () => world.sandbox.world.tokens.at(-1)?.token;

    // Replica B is restarted first, with the new key and the previous one; A still has the old key only.
    const b = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: changeover });
    others.push(b);
    world.sandbox.world.advance(56 * 60_000);
    expect(await b.bot.tokens.refreshIfDue()).toBe("refreshed");
    expect((await world.bot.bot.tokens.current()).token).toBe(newestToken());
    expect(await storedKeyIds(world)).toEqual([oldId]);

    // A is restarted the same way; the key is rotated while both run, from the replicas'
    // environment with the new key on stdin.
    await world.bot.stop();
    const a = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: changeover });
    others.push(a);
    const rotate = cli(["rotate-key"], { DATABASE_URL: world.testDb.url, ...changeover }, `${newKey}\n`);
    expect(rotate.stderr).toBe("");
    expect(rotate.stdout).toBe(
      `re-encrypted 4 credentials (key id ${oldId} → ${newId}). Key id ${newId} is now the active key: every replica writes with it. Set GHCONNECT_ENCRYPTION_KEY to the new key on every replica and remove GHCONNECT_PREVIOUS_ENCRYPTION_KEY, restarting them one by one; a replica started with the old key alone refuses to start.\n`,
    );
    expect(rotate.status).toBe(0);
    expect(await storedKeyIds(world)).toEqual([newId]);
    const rotated = await auditOf(world, "key.rotated");
    expect(rotated.map((e) => [e.outcome, e.details])).toEqual([
      ["ok", { from_key_id: oldId, to_key_id: newId, credentials: 4, upgraded_from_v1: 0, linked_accounts: 0 }],
    ]);

    // After the rotation A writes under the new key and B reads it.
    world.sandbox.world.advance(56 * 60_000);
    expect(await a.bot.tokens.refreshIfDue()).toBe("refreshed");
    expect((await b.bot.tokens.current()).token).toBe(newestToken());
    expect(await storedKeyIds(world)).toEqual([newId]);

    // A replica started with the old key alone refuses, with one line and exit code 2.
    const { since } = await world.testDb.db.kysely.selectFrom("active_encryption_key").select("since").executeTakeFirstOrThrow();
    const start = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        DOTENV_CONFIG_PATH: "/nonexistent",
        ...sandboxBotEnv(world.sandbox, world.bot.port, world.testDb.url),
        GHCONNECT_ENCRYPTION_KEY: oldKey,
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(start.stderr).toBe(
      `ghconnect: cannot start: GHCONNECT_ENCRYPTION_KEY is the previous key (id ${oldId}); the active key is ${newId} since ${since}. Set it to the new key.\n`,
    );
    expect(start.status).toBe(2);

    // With neither key it refuses too; with the new key alone it starts and works.
    const stranger = randomBytes(32);
    await expect(
      startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ENCRYPTION_KEY: stranger.toString("base64") } }),
    ).rejects.toThrow(
      `GHCONNECT_ENCRYPTION_KEY (id ${keyId(stranger)}) is not the active key (id ${newId} since ${since}) or a previous one. Set GHCONNECT_ENCRYPTION_KEY to the active key (during a key change: to the new key, with the active one in GHCONNECT_PREVIOUS_ENCRYPTION_KEY).`,
    );
    const onlyNew = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ENCRYPTION_KEY: newKey } });
    others.push(onlyNew);
    expect((await onlyNew.bot.tokens.current()).token).toBe(newestToken());
  });
});

describe.each(ENGINES)("credentials stored before the row binding (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("after the first start of this version no credential is left in the format before v2 (bound to its kind only), and each still opens", async () => {
    world = await startWorld(engine);
    await world.enable();
    const store = world.bot.bot.store;
    const key = world.bot.config.GHCONNECT_ENCRYPTION_KEY;
    const connection = (await sql<{ id: string }>`select id from connections`.execute(world.testDb.db.kysely)).rows[0]?.id as string;
    const pem = (await store.credentials.get({ connectionId: connection }, "private_key"))?.secret as string;
    // The row as a version before the binding wrote it: its kind only as additional data.
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from("ghconnect:credential:private_key"));
    const ct = Buffer.concat([cipher.update(pem, "utf8"), cipher.final()]);
    const v1 = ["v1", keyId(key), iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(":");
    await sql`update credentials set ciphertext = ${v1} where connection_id = ${connection} and kind = 'private_key'`.execute(
      world.testDb.db.kysely,
    );

    await world.restartBot();
    const rows = await sql<{ ciphertext: string }>`select ciphertext from credentials`.execute(world.testDb.db.kysely);
    expect(rows.rows.filter((r) => !r.ciphertext.startsWith("v2:"))).toEqual([]);
    expect((await world.bot.bot.store.credentials.get({ connectionId: connection }, "private_key"))?.secret).toBe(pem);
  });
});

describe("rotate-key refusals", () => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("a key on the command line is refused (ps, shell history) and nothing changes", async () => {
    world = await startWorld("sqlite");
    await world.enable();
    const oldKey = world.bot.config.GHCONNECT_ENCRYPTION_KEY.toString("base64");
    const before = await storedKeyIds(world);
    const rotate = cli(["rotate-key", "--new-key", randomBytes(32).toString("base64")], {
      DATABASE_URL: world.testDb.url,
      GHCONNECT_ENCRYPTION_KEY: oldKey,
    });
    expect(rotate.stderr).toBe(
      'ghconnect: rotate-key does not take a key on the command line (--new-key): arguments are visible to every user of this machine in `ps` and stay in shell history. Generate the new key, keep it, then pass it in the environment: NEW=$(openssl rand -base64 32); echo "$NEW" > new.key (then store it in your secrets manager and delete the file); GHCONNECT_NEW_ENCRYPTION_KEY="$NEW" npx ghconnect rotate-key (README "Rotating the key"); the current key stays in GHCONNECT_ENCRYPTION_KEY.\n',
    );
    expect(rotate.status).toBe(2);
    expect(await storedKeyIds(world)).toEqual(before);
  });

  it("with a wrong current key nothing changes, the advice names the command just run, and the refusal is audited", async () => {
    world = await startWorld("sqlite");
    await world.enable();
    const activeId = keyId(world.bot.config.GHCONNECT_ENCRYPTION_KEY);
    const wrong = randomBytes(32);
    const next = randomBytes(32);
    const rotate = cli(["rotate-key"], {
      DATABASE_URL: world.testDb.url,
      GHCONNECT_ENCRYPTION_KEY: wrong.toString("base64"),
      GHCONNECT_NEW_ENCRYPTION_KEY: next.toString("base64"),
    });
    const { since } = await world.testDb.db.kysely.selectFrom("active_encryption_key").select("since").executeTakeFirstOrThrow();
    expect(rotate.stderr).toBe(
      `ghconnect: rotate-key: GHCONNECT_ENCRYPTION_KEY (id ${keyId(wrong)}) is not the active key (id ${activeId} since ${since}), so the stored credentials cannot be read; nothing was changed. Run \`npx ghconnect rotate-key\` again with GHCONNECT_ENCRYPTION_KEY set to the key with id ${activeId} and the same new key.\n`,
    );
    expect(rotate.status).toBe(1);
    expect(await storedKeyIds(world)).toEqual([activeId]);
    const refused = await auditOf(world, "key.rotated");
    expect(refused.map((e) => [e.outcome, e.details.active_key_id, e.details.given_key_ids, e.details.to_key_id])).toEqual([
      ["refused", activeId, keyId(wrong), keyId(next)],
    ]);
    expect(JSON.stringify(refused)).not.toContain(wrong.toString("base64"));
    expect((await world.bot.bot.tokens.current()).token).toBe(world.sandbox.world.tokens.at(-1)?.token);
  });
});
