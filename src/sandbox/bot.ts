// ghconnect running against the sandbox, configured only through its environment, as an operator
// would run it. Shared by the demo, the tests and the benchmark. The bot's clock follows the
// sandbox's, so moving time (`:clock +56m`) moves both sides.
import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import type { Logger } from "pino";
import { createGhconnect, type Ghconnect, type GhconnectOptions } from "../app.js";
import { type Config, loadConfig } from "../config.js";
import type { Db } from "../db/database.js";
import { createLogger } from "../log.js";
import { SandboxBrowser } from "./browser.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS, type Sandbox, type SandboxUserName } from "./index.js";
import { SlackDriver } from "./slack/driver.js";

export interface SandboxedBot {
  bot: Ghconnect;
  config: Config;
  url: string;
  port: number;
  /** GET here for the Prometheus text (the bot's own loopback listener, METRICS_PORT). */
  metricsUrl: string;
  driver: SlackDriver;
  /** A browser signed in to github.com as the sandbox user's account. */
  browser(user: SandboxUserName): Promise<SandboxBrowser>;
  stop(): Promise<void>;
}

/**
 * A port nothing listens on once this returns. Only for tests that need a closed port: a port
 * found this way can be taken by another process before anyone listens on it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment for a bot on this sandbox (secrets generated once per sandbox run). */
export function sandboxBotEnv(
  sandbox: Sandbox,
  port: number,
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ...sandbox.env(),
    SLACK_SIGNING_SECRET: sandboxSecrets(sandbox).signing,
    GHCONNECT_ENCRYPTION_KEY: sandboxSecrets(sandbox).key,
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    // Any free loopback port: several bots (tests, replicas) run side by side on one machine.
    METRICS_PORT: "0",
    LOG_LEVEL: "silent",
    ...overrides,
  };
}

const secrets = new WeakMap<Sandbox, { signing: string; key: string }>();
function sandboxSecrets(sandbox: Sandbox) {
  let s = secrets.get(sandbox);
  if (!s) {
    s = { signing: randomBytes(16).toString("hex"), key: randomBytes(32).toString("base64") };
    secrets.set(sandbox, s);
  }
  return s;
}

/** How many fresh ports a bot that must know its own address tries before giving up. */
const PORT_ATTEMPTS = 5;

export async function startBotOnSandbox(
  sandbox: Sandbox,
  options: {
    databaseUrl: string;
    db?: Db;
    env?: Record<string, string>;
    /** A fixed port (a restart keeps the address GitHub and Slack know). */
    port?: number;
    log?: Logger;
    sweepEveryMs?: number;
    /** Where a port for a bot that is its own PUBLIC_URL comes from (a port found free). */
    candidatePort?: () => Promise<number>;
    /** Start-up and health options of the app (tests shorten the Slack re-check interval). */
    app?: Pick<GhconnectOptions, "slackRecheckMs" | "socketConnectWaitMs">;
  },
): Promise<SandboxedBot> {
  const build = async (port: number) => {
    const config = loadConfig(sandboxBotEnv(sandbox, port, options.databaseUrl, options.env));
    const bot = await createGhconnect({
      config,
      log: options.log ?? createLogger(config.LOG_LEVEL),
      db: options.db,
      clock: () => new Date(sandbox.world.now()),
      sweepEveryMs: options.sweepEveryMs,
      ...options.app,
    });
    try {
      return { config, bot, port: await bot.listen(port) };
    } catch (error) {
      await bot.close().catch(() => {});
      throw error;
    }
  };
  let started: Awaited<ReturnType<typeof build>> | undefined;
  if (options.port !== undefined || options.env?.PUBLIC_URL) {
    // A fixed port is used as given. Behind an address given by the caller (a balancer), the
    // bot's own port can be any: port 0, chosen as it binds, so nothing can take it in between.
    started = await build(options.port ?? 0);
  } else {
    // PUBLIC_URL is the bot's own address, so the port must be known before the config is built;
    // another process can take a port found free before the bot listens on it, so a taken port is
    // given up for a fresh one.
    for (let attempt = 1; !started; attempt++) {
      const port = await (options.candidatePort ?? freePort)();
      try {
        started = await build(port);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  }
  const { config, bot, port } = started;
  const url = `http://127.0.0.1:${port}`;
  const driver = new SlackDriver({
    botUrl: url,
    signingSecret: config.SLACK_SIGNING_SECRET,
    slack: sandbox.slack,
    defaultChannel: SANDBOX_ADMIN_CHANNEL,
  });
  return {
    bot,
    config,
    url,
    port,
    metricsUrl: `http://127.0.0.1:${bot.metricsPort()}/metrics`,
    driver,
    async browser(user) {
      const browser = new SandboxBrowser({ fetch: sandbox.fetch });
      await browser.signIn(sandbox.urls.web, SANDBOX_USERS[user].github);
      return browser;
    },
    stop: () => bot.close(),
  };
}
