// Assembles ghconnect: database → store → core → Slack (Bolt) and the HTTP routes. main.ts and
// the tests build the app through here, so the tests run exactly what production runs.
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, SocketModeReceiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { type Clock, systemClock } from "./core/clock.js";
import { seedAdminRoster } from "./core/roster.js";
import { CommandRouter } from "./core/router.js";
import { type Db, openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { Store } from "./db/store.js";
import { boltLogger } from "./log.js";
import { botAuthorize } from "./slack/authorize.js";
import { registerCommandListener } from "./slack/command-listener.js";
import { dedupeDeliveries } from "./slack/dedupe.js";
import { healthRoute } from "./web/health.js";
import { createAppServer } from "./web/server.js";

/** Bodies Slack sends are a few kB; a block_actions payload carries the message, still far below. */
export const SLACK_BODY_LIMIT = 256 * 1024;

export interface GhconnectOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** An already-open database (tests); otherwise DATABASE_URL is opened and closed by the app. */
  db?: Db;
}

export interface Ghconnect {
  store: Store;
  listen(port?: number): Promise<number>;
  close(): Promise<void>;
}

export async function createGhconnect(options: GhconnectOptions): Promise<Ghconnect> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const db = options.db ?? (await openDatabase(config.DATABASE_URL));
  const applied = await migrateToLatest(db);
  if (applied.length > 0) log.info({ applied }, "database migrated");
  const store = new Store(db, clock);
  await seedAdminRoster(store, config.GHCONNECT_ADMINS);

  const slackClient = new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl: config.SLACK_API_URL,
    logger: boltLogger(log),
    timeout: 10_000,
  });
  const { authorize, warmUp } = botAuthorize(slackClient, config.SLACK_BOT_TOKEN, log);
  const mode = config.SLACK_APP_TOKEN ? "socket" : "http";
  const receiver =
    mode === "socket"
      ? new SocketModeReceiver({
          appToken: config.SLACK_APP_TOKEN as string,
          logger: boltLogger(log),
          installerOptions: { clientOptions: { slackApiUrl: config.SLACK_API_URL } },
        })
      : new HTTPReceiver({
          signingSecret: config.SLACK_SIGNING_SECRET,
          logger: boltLogger(log),
          bodyLimit: SLACK_BODY_LIMIT,
          // Unknown paths are ours to answer (see web/server.ts), never Bolt's.
          endpoints: ["/slack/events"],
        });
  const app = new App({ receiver, authorize, logger: boltLogger(log), clientOptions: { slackApiUrl: config.SLACK_API_URL } });
  app.error(async (error) => {
    log.error({ err: error }, "unhandled error in a Slack listener");
  });

  const audit = (input: Parameters<Store["appendAudit"]>[0]) => store.appendAudit(input);
  const router = new CommandRouter({}, audit);
  app.use(dedupeDeliveries(store.deliveries, log));
  registerCommandListener(app, { router, audit, log });

  const server = createAppServer({
    routes: [healthRoute(db, mode)],
    slackListener: receiver instanceof HTTPReceiver ? receiver.requestListener : undefined,
    log,
  });

  let started = false;
  return {
    store,
    async listen(port = config.PORT) {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, () => resolve());
      });
      if (mode === "socket") await app.start();
      started = true;
      void warmUp();
      const bound = (server.address() as AddressInfo).port;
      log.info({ port: bound, slack: mode, database: db.engine }, "ghconnect is listening");
      return bound;
    },
    async close() {
      if (started && mode === "socket") await app.stop().catch(() => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (!options.db) await db.close();
    },
  };
}
