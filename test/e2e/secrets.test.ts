// Secrets never leak: after a whole enable → search → disable, none of them is found in the
// database (raw bytes), the logs, any Slack message, any audit entry or any HTTP response.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { sandboxBotEnv } from "../../src/sandbox/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

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
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    world = await startWorld(engine, { log: createLogger("debug", sink) });
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

describe("encryption key", () => {
  it("rotate-key re-encrypts everything; the old key then stops start-up with a clear error, the new one works", async () => {
    world = await startWorld("sqlite");
    await world.enable();
    await world.bot.stop();
    const oldKey = world.bot.config.GHCONNECT_ENCRYPTION_KEY.toString("base64");
    const newKey = randomBytes(32).toString("base64");
    const base = { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", DATABASE_URL: world.testDb.url };
    const rotate = spawnSync(process.execPath, ["bin/ghconnect.js", "rotate-key", "--new-key", newKey], {
      env: { ...base, GHCONNECT_ENCRYPTION_KEY: oldKey },
      encoding: "utf8",
    });
    expect(rotate.stderr).toBe("");
    expect(rotate.stdout).toMatch(/^re-encrypted 4 credentials \(key id [0-9a-f]+ → [0-9a-f]+\)/);
    expect(rotate.status).toBe(0);

    const env = sandboxBotEnv(world.sandbox, world.bot.port, world.testDb.url);
    const start = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...base, ...env, GHCONNECT_ENCRYPTION_KEY: oldKey },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(start.status).toBe(2);
    expect(start.stderr.trim()).toMatch(
      /^ghconnect: cannot start: GHCONNECT_ENCRYPTION_KEY is wrong: stored credentials were encrypted with another key/,
    );

    const { startBotOnSandbox } = await import("../../src/sandbox/bot.js");
    const withNewKey = await startBotOnSandbox(world.sandbox, { databaseUrl: world.testDb.url, env: { GHCONNECT_ENCRYPTION_KEY: newKey } });
    try {
      const { token } = await withNewKey.bot.tokens.current();
      expect(token).toBe(world.sandbox.world.tokens.at(-1)?.token);
    } finally {
      await withNewKey.stop();
    }
  });
  let world: World;
  afterEach(async () => {
    await world?.close();
  });
});
