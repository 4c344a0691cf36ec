// Starts ghconnect on an ephemeral port against the Slack stand-in and a fresh test database,
// exactly as production assembles it (src/app.ts), and hands the test a Slack driver.
import { randomBytes } from "node:crypto";
import { createGhconnect, type Ghconnect } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { SlackDriver } from "../../src/sandbox/slack/driver.js";
import { SlackSandbox } from "../../src/sandbox/slack/server.js";
import { createTestDb, type EngineName, type TestDb } from "./db.js";

export const ADMIN_CHANNEL = "C0ADMINS01";
export const USERS = {
  alice: "U0ALICE001", // site admin, in the roster
  bob: "U0BOB00001", // site admin, in the roster
  mallory: "U0MALLORY1", // not in the roster
};

export interface BotHarness {
  app: Ghconnect;
  config: Config;
  slack: SlackSandbox;
  driver: SlackDriver;
  testDb: TestDb;
  url: string;
  /** /metrics on the bot's loopback metrics listener. */
  metricsUrl: string;
  close(): Promise<void>;
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: "xoxb-test-bot-token",
    SLACK_SIGNING_SECRET: randomBytes(16).toString("hex"),
    SLACK_ADMIN_CHANNEL: ADMIN_CHANNEL,
    GHES_URL: "http://127.0.0.1:9",
    GHES_TOKEN: "ghes-test-token",
    PUBLIC_URL: "http://127.0.0.1:9",
    GHCONNECT_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    GHCONNECT_ADMINS: `${USERS.alice}:alice,${USERS.bob}:bob`,
    LOG_LEVEL: "silent",
    METRICS_PORT: "0",
    ...overrides,
  };
}

export async function startBot(engine: EngineName, envOverrides: Record<string, string> = {}): Promise<BotHarness> {
  const env = testEnv(envOverrides);
  const slack = await new SlackSandbox({
    botToken: env.SLACK_BOT_TOKEN as string,
    // With SLACK_APP_TOKEN the bot runs in Socket Mode, connecting to the sandbox with that token.
    appToken: env.SLACK_APP_TOKEN,
    users: Object.values(USERS).map((id) => ({ id, name: id.toLowerCase() })),
    channels: [
      { id: ADMIN_CHANNEL, name: "ghes-admins" },
      { id: "C0GENERAL1", name: "general" },
    ],
  }).start();
  const testDb = await createTestDb(engine);
  const config = loadConfig({ ...env, SLACK_API_URL: slack.apiUrl, DATABASE_URL: testDb.url });
  const app = await createGhconnect({ config, log: createLogger("silent"), db: testDb.db });
  const port = await app.listen(0);
  const url = `http://127.0.0.1:${port}`;
  const driver = new SlackDriver({ botUrl: url, signingSecret: config.SLACK_SIGNING_SECRET, slack, defaultChannel: ADMIN_CHANNEL });
  return {
    app,
    config,
    slack,
    driver,
    testDb,
    url,
    metricsUrl: `http://127.0.0.1:${app.metricsPort()}/metrics`,
    async close() {
      await app.close();
      await slack.stop();
      await testDb.cleanup();
    },
  };
}

/** Waits until `check` returns a truthy value (for replies that arrive after the ack). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** All the text a person would read in a Slack message (fallback text and every block). */
export function messageText(message: object): string {
  const m = message as { text?: unknown; blocks?: unknown };
  const parts: string[] = [String(m.text ?? "")];
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const record = node as Record<string, unknown>;
    if (typeof record.text === "string") parts.push(record.text);
    for (const value of Object.values(record)) if (typeof value === "object") walk(value);
  };
  walk(m.blocks);
  return parts.join("\n");
}

/** Audit entries of immediate replies are written just after the ack; wait until they land. */
export async function auditSettled(app: Ghconnect): Promise<number> {
  let previous = -1;
  for (let i = 0; i < 100; i++) {
    const count = await app.store.audit.count();
    if (count === previous) return count;
    previous = count;
    await new Promise((r) => setTimeout(r, 40));
  }
  return previous;
}

/**
 * The audit entries (action and outcome) written after entry `since`, up to a marker: a `help`
 * from bob sent now, whose own entry is awaited and left out. What earlier requests set going is
 * written before the marker's entry, so "nothing was recorded" is shown by an event, not a pause.
 */
export async function auditedBeforeMarker(bot: BotHarness, since: number): Promise<string[]> {
  await bot.driver.command(USERS.bob, "help");
  const entries = await eventually(async () => {
    const after = (await bot.app.store.audit.latest(100)).filter((e) => e.seq > since).reverse();
    const marker = after.findIndex((e) => e.action === "command.help" && e.actor_slack === USERS.bob);
    return marker >= 0 ? after.slice(0, marker) : undefined;
  });
  return entries.map((e) => `${e.action} ${e.outcome}`);
}
