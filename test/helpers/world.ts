// A whole world for end-to-end tests: the sandbox (GitHub and Slack stand-ins), ghconnect on a
// fresh test database, configured only through its environment, and helpers that act as people:
// type a command, click a button, follow a link in a browser; and read what an auditor or an
// operator reads: the audit trail, the credentials stored, the log.
import { Writable } from "node:stream";
import { sql } from "kysely";
import type { Logger } from "pino";
import type { AuditEntry } from "../../src/core/audit.js";
import { createLogger } from "../../src/log.js";
import { type SandboxedBot, startBotOnSandbox } from "../../src/sandbox/bot.js";
import type { BrowseResult } from "../../src/sandbox/browser.js";
import {
  SANDBOX_ADMIN_CHANNEL,
  SANDBOX_USERS,
  type Sandbox,
  type SandboxOptions,
  type SandboxUserName,
  startSandbox,
} from "../../src/sandbox/index.js";
import type { PostedMessage } from "../../src/sandbox/slack/server.js";
import { eventually, messageText } from "./bot.js";
import { createTestDb, type EngineName, type TestDb } from "./db.js";

export interface World {
  sandbox: Sandbox;
  bot: SandboxedBot;
  testDb: TestDb;
  command(user: SandboxUserName, text: string): Promise<{ status: number; ack: unknown }>;
  /** Admin-channel messages (not private ones, not thread replies), oldest first. */
  channel(): PostedMessage[];
  /** The latest card in the admin channel whose text matches (posted at index `since` or later). */
  card(match: RegExp, since?: number): Promise<PostedMessage>;
  /** Private messages to the user, oldest first. */
  privateTo(user: SandboxUserName): PostedMessage[];
  /** Waits for a private message to the user whose text matches. */
  privateMessage(user: SandboxUserName, match: RegExp, since?: number): Promise<PostedMessage>;
  /** `/ghconnect TEXT` as `user`, then the private reply that matches, as the user reads it. */
  ask(user: SandboxUserName, text: string, match: RegExp): Promise<string>;
  /** The audit trail after entry `seq` (the whole trail by default), oldest first. */
  auditSince(seq?: number): Promise<AuditEntry[]>;
  /** The seq of the newest audit entry (0 for none): pass it to `auditSince` to see what comes after. */
  lastSeq(): Promise<number>;
  /** How many credentials the database holds (sealed rows, as an operator counting them sees). */
  credentialCount(): Promise<number>;
  /** A mark in the message history: pass it as `since` to see only what comes after. */
  mark(): number;
  click(user: SandboxUserName, message: PostedMessage, actionId: string): Promise<number>;
  /** The URL of a link button in a message. */
  linkIn(message: PostedMessage, label: RegExp): string;
  browse(user: SandboxUserName, url: string): Promise<BrowseResult>;
  /** enable acme → accept → returns the private "Continue on GitHub" link. */
  enableUntilGitHub(org?: string, user?: SandboxUserName): Promise<string>;
  /** `/ghconnect link` as `user`, then the sign-in link for `side` followed in `browser`'s browser (the user's own by default). */
  link(user: SandboxUserName, side: "ghes" | "github", browser?: SandboxUserName): Promise<BrowseResult>;
  /** The whole enable, through the browser, as alice/octocat unless told otherwise. */
  enable(org?: string): Promise<BrowseResult>;
  /** Connected (`enable`), unified search turned on by alice, and each of `users` linked to GHES and github.com. */
  readyToSearch(...users: SandboxUserName[]): Promise<void>;
  restartBot(): Promise<void>;
  close(): Promise<void>;
}

/** The text as a person reads it in Slack: *bold* markers rendered away. */
export const textOf = (m: PostedMessage) => messageText(m).replace(/\*([^*\n]+)\*/g, "$1");

/** A logger for `startWorld`'s `log` whose lines (one a write) the test reads, as an operator reads the bot's log. */
export function capturedLog(level: "debug" | "info"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger(level, sink), lines };
}

export async function startWorld(
  engine: EngineName,
  /** socketMode: the bot connects over Socket Mode, and commands and clicks arrive that way. */
  /** sweepEveryMs: how often the app's own sweep runs (tests move the clock past a lease, then wait). */
  /** sandbox: how the stand-ins start (a GHE.com-shaped host set, the GHES version). */
  options: { env?: Record<string, string>; log?: Logger; socketMode?: boolean; sweepEveryMs?: number; sandbox?: SandboxOptions } = {},
): Promise<World> {
  const sandbox = await startSandbox(options.sandbox);
  const testDb = await createTestDb(engine);
  const socket = options.socketMode === true;
  const env = { ...options.env, ...(socket ? { SLACK_APP_TOKEN: sandbox.slack.socketMode.appToken } : {}) };
  const sweepEveryMs = options.sweepEveryMs;
  let bot = await startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, env, log: options.log, sweepEveryMs });
  const world: World = {
    sandbox,
    get bot() {
      return bot;
    },
    testDb,
    async command(user, text) {
      const slackUser = SANDBOX_USERS[user].slack;
      const r = await (socket ? bot.driver.commandOverSocket(slackUser, text) : bot.driver.command(slackUser, text));
      return { status: r.status, ack: r.ack };
    },
    // The channel as Slack shows it: no private messages, no thread replies.
    channel: () => sandbox.slack.messages.filter((m) => m.channel === SANDBOX_ADMIN_CHANNEL && !m.user && !m.threadTs),
    async card(match, since = 0) {
      return eventually(() =>
        [...world.channel()].reverse().find((m) => sandbox.slack.messages.indexOf(m) >= since && match.test(textOf(m))),
      );
    },
    mark: () => sandbox.slack.messages.length,
    privateTo: (user) => sandbox.slack.messages.filter((m) => m.user === SANDBOX_USERS[user].slack),
    async privateMessage(user, match, since = 0) {
      return eventually(() =>
        [...world.privateTo(user)].reverse().find((m) => sandbox.slack.messages.indexOf(m) >= since && match.test(textOf(m))),
      );
    },
    async ask(user, text, match) {
      const since = world.mark();
      await world.command(user, text);
      return textOf(await world.privateMessage(user, match, since));
    },
    async auditSince(seq = 0) {
      const entries: AuditEntry[] = [];
      for await (const e of bot.bot.store.audit.all()) if (e.seq > seq) entries.push(e);
      return entries;
    },
    async lastSeq() {
      return (await bot.bot.store.audit.latest(1))[0]?.seq ?? 0;
    },
    async credentialCount() {
      const rows = (await sql`select count(*) as n from credentials`.execute(testDb.db.kysely)).rows;
      return Number((rows[0] as { n: number | string }).n);
    },
    async click(user, message, actionId) {
      const blocks = message.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value?: string }> }>;
      const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
      if (!button) throw new Error(`no button ${actionId} in: ${textOf(message)}`);
      const slackUser = SANDBOX_USERS[user].slack;
      if (socket) return (await bot.driver.clickOverSocket(slackUser, message, actionId, button.value)).status;
      return (await bot.driver.send(bot.driver.clickRequest(slackUser, message, actionId, button.value))).status;
    },
    linkIn(message, label) {
      const blocks = message.blocks as Array<{ elements?: Array<{ url?: string; text?: { text: string } }> }>;
      const link = blocks.flatMap((b) => b.elements ?? []).find((e) => e.url && label.test(e.text?.text ?? ""));
      if (!link?.url) throw new Error(`no link ${label} in: ${textOf(message)}`);
      return link.url;
    },
    async browse(user, url) {
      return (await bot.browser(user)).browse(url);
    },
    async enableUntilGitHub(org = "acme", user = "alice") {
      const since = world.mark();
      await world.command(user, `enable ${org}`);
      const card = await world.card(/Accept addendum and continue/, since);
      const clicked = world.mark();
      await world.click(user, card, "enable.accept");
      const reply = await world.privateMessage(user, /Continue on GitHub/, clicked);
      return world.linkIn(reply, /Continue on GitHub/);
    },
    async link(user, side, browser = user) {
      const since = world.mark();
      await world.command(user, "link");
      const reply = await world.privateMessage(user, /Prove who you are|nothing to link/, since);
      return world.browse(browser, world.linkIn(reply, side === "ghes" ? /Sign in to GHES/ : /Sign in to (github\.com|\S+\.ghe\.com)/));
    },
    async enable(org = "acme") {
      const link = await world.enableUntilGitHub(org);
      return world.browse("alice", link);
    },
    async readyToSearch(...users) {
      await world.enable();
      await world.ask("alice", "feature enable unified-search", /Turned on/);
      for (const user of users) {
        await world.link(user, "ghes");
        await world.link(user, "github");
      }
    },
    async restartBot() {
      const port = bot.port;
      await bot.stop();
      bot = await startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, env, port, log: options.log, sweepEveryMs });
    },
    async close() {
      await bot.stop().catch(() => {});
      await sandbox.stop();
      await testDb.cleanup();
    },
  };
  return world;
}
