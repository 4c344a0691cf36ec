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
  driver: SlackDriver;
  /** A browser signed in to github.com as the sandbox user's account. */
  browser(user: SandboxUserName): Promise<SandboxBrowser>;
  stop(): Promise<void>;
}

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

export async function startBotOnSandbox(
  sandbox: Sandbox,
  options: {
    databaseUrl: string;
    db?: Db;
    env?: Record<string, string>;
    port?: number;
    log?: Logger;
    /** Start-up and health options of the app (tests shorten the Slack re-check interval). */
    app?: Pick<GhconnectOptions, "slackRecheckMs" | "socketConnectWaitMs">;
  },
): Promise<SandboxedBot> {
  const port = options.port ?? (await freePort());
  const config = loadConfig(sandboxBotEnv(sandbox, port, options.databaseUrl, options.env));
  const bot = await createGhconnect({
    config,
    log: options.log ?? createLogger(config.LOG_LEVEL),
    db: options.db,
    clock: () => new Date(sandbox.world.now()),
    ...options.app,
  });
  await bot.listen(port);
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
    driver,
    async browser(user) {
      const browser = new SandboxBrowser();
      await browser.signIn(sandbox.urls.web, SANDBOX_USERS[user].github);
      return browser;
    },
    stop: () => bot.close(),
  };
}
