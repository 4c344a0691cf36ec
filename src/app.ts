// Assembles ghconnect: database → store → core → Slack (Bolt) and the HTTP routes. main.ts and
// the tests build the app through here, so the tests run exactly what production runs.
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, SocketModeReceiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { type Config, ConfigError } from "./config.js";
import { createAnnouncer } from "./core/announce.js";
import { AuditCommands } from "./core/audit-commands.js";
import { Checks } from "./core/checks.js";
import { type Clock, systemClock } from "./core/clock.js";
import { DisableFlow } from "./core/disable.js";
import { EnableFlow } from "./core/enable/index.js";
import { watchEnterpriseInstallations } from "./core/enterprise-installations.js";
import { FeatureCommands } from "./core/feature-commands.js";
import { connectHosts, githubSiteName } from "./core/github-hosts.js";
import { LinkService } from "./core/link.js";
import { applianceProxyChecks } from "./core/native/appliance-check.js";
import { foldNative } from "./core/native/events.js";
import { GovernedFeatures } from "./core/native/governed.js";
import { NativeWatcher } from "./core/native/watcher.js";
import { CHECK_TIMEOUT_MS } from "./core/preflight.js";
import { proxyFor } from "./core/proxy-route.js";
import { announcePendingRoster, RosterCommands, seedAdminRoster } from "./core/roster.js";
import { CommandRouter } from "./core/router.js";
import { SearchCommand } from "./core/search.js";
import { ServerStatistics } from "./core/server-statistics.js";
import { slackProblem } from "./core/slack-check.js";
import { StatusCommand } from "./core/status/command.js";
import { TokenKeeper } from "./core/tokens.js";
import { type Db, databaseHealth, openDatabase } from "./db/database.js";
import { SLACK_DELIVERY_RETENTION_MS } from "./db/deliveries-repo.js";
import { inspectStorage, openForInspection } from "./db/inspect.js";
import { migrateToLatest } from "./db/migrate.js";
import { NativeRepo } from "./db/native-repo.js";
import { RecordingThread } from "./db/recording-thread.js";
import { SecretBox } from "./db/secret-box.js";
import { RECORDING_BATCH, Store } from "./db/store.js";
import { DotcomClient } from "./github/dotcom.js";
import { GhesClient } from "./github/ghes.js";
import { GhesAuditClient } from "./github/ghes-audit.js";
import { ManageClient } from "./github/manage.js";
import { PersonOAuthClient } from "./github/person-oauth.js";
import { DatabaseTokenCache } from "./github/token-cache.js";
import { createFetch, probeProxy } from "./github/transport.js";
import { InFlight } from "./inflight.js";
import { boltLogger } from "./log.js";
import { registerActionListeners } from "./slack/action-listeners.js";
import { botAuthorize } from "./slack/authorize.js";
import { commandLane } from "./slack/command-lane.js";
import { registerCommandListener, SLASH_COMMAND } from "./slack/command-listener.js";
import { deliveryContext } from "./slack/dedupe.js";
import { slackEventsHandler } from "./slack/events-endpoint.js";
import { GatedHttpReceiver } from "./slack/http-receiver.js";
import { SlackNotifier } from "./slack/notifier.js";
import { responseUrlRule } from "./slack/payload.js";
import { slackProbe } from "./slack/probe.js";
import { type SocketStart, startSocketMode } from "./slack/socket-start.js";
import { SlackWatch } from "./slack/watch.js";
import { SlackWitnessReader } from "./slack/witness-reader.js";
import { configuredHome, workspaceGuard } from "./slack/workspace-guard.js";
import { Sweeper } from "./sweeper.js";
import { enablePageUrls, githubRoutes } from "./web/github-routes.js";
import { healthRoute } from "./web/health.js";
import { linkPageUrls, linkRoutes } from "./web/link-routes.js";
import { Metrics } from "./web/metrics.js";
import { createAppServer } from "./web/server.js";

/** Bodies Slack sends are a few kB; a block_actions payload carries the message, still far below. */
export const SLACK_BODY_LIMIT = 256 * 1024;

export interface GhconnectOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** An already-open database (tests); otherwise DATABASE_URL is opened and closed by the app. */
  db?: Db;
  /** Interval of the periodic duties (expiries, crash recovery, refusal audits, pruning); GHCONNECT_SWEEP_INTERVAL (30 s) by default. */
  sweepEveryMs?: number;
  /** How often Slack is re-checked for /healthz while it answers (default 60 s; sooner while it does not). */
  slackRecheckMs?: number;
  /** How long start-up waits for the Socket Mode connection before going on degraded (default 10 s). */
  socketConnectWaitMs?: number;
  /**
   * Records answered commands on a thread of their own (db/recording-thread.ts), as src/main.ts
   * does; off, they are written on the main thread (tests that build many apps start no thread).
   */
  recordingThread?: boolean;
  /** Answers waiting to be recorded past which each ack waits for its own record (RECORDING_BACKLOG; 0: always). */
  recordingBacklog?: number;
  /**
   * `ghconnect check`: build only what the checks need and change nothing — no migration, no key
   * recorded, no roster seeded; the database and the key become check lines instead.
   */
  inspectOnly?: boolean;
}

/**
 * @slack/web-api retries a failed call for about 30 minutes by default, silently; posting gives up
 * after three tries (each cut at 10 s) instead, and the failure is logged.
 */
export const SLACK_POSTING_RETRIES = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 4000 };

export interface Ghconnect {
  store: Store;
  enable: EnableFlow;
  disable: DisableFlow;
  tokens: TokenKeeper;
  /** Every check `/ghconnect check` runs (the CLI's `ghconnect check` runs them too). */
  checks: Checks;
  links: LinkService;
  /** The watcher of GHES's native GitHub Connect (its enterprise audit log). */
  native: NativeWatcher;
  /** Listens on PORT (the public routes) and METRICS_PORT; resolves with the public port. */
  listen(port?: number): Promise<number>;
  /** The port /metrics is served on (bound on METRICS_HOST), once listening; undefined when off. */
  metricsPort(): number | undefined;
  close(): Promise<void>;
}

/** Records of answers given in acks that may wait on the database at once (each is one small entry). */
const RECORDING_SLOTS = 5000;
/**
 * At this many answers waiting to be recorded (three of the recording thread's batches, about half
 * a second of sustained load), each new ack waits for its own record: the senders are paced to the
 * write rate instead of growing a backlog. Below it a batch being written and the next filling up
 * never hold an ack.
 */
const RECORDING_BACKLOG = 3 * RECORDING_BATCH;

export async function createGhconnect(options: GhconnectOptions): Promise<Ghconnect> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const inspected = options.inspectOnly && !options.db ? await openForInspection(config.DATABASE_URL) : undefined;
  const db = options.db ?? inspected?.db ?? (await openDatabase(config.DATABASE_URL));
  const previousKey = config.GHCONNECT_PREVIOUS_ENCRYPTION_KEY;
  const box = new SecretBox(config.GHCONNECT_ENCRYPTION_KEY, ...(previousKey ? [previousKey] : []));
  const store = new Store(db, clock, box);
  if (!options.inspectOnly) {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) log.info({ applied }, "database migrated");
    // A wrong or retired key must stop the bot at start-up with one clear line (WrongEncryptionKey),
    // not fail later; during a key change the replica holds both keys and writes with the active one.
    try {
      const sealedWith = [...new Set([...(await store.credentials.keyIds()), ...(await store.links.keyIds())])];
      await store.encryptionKeys.admit(box, sealedWith);
      // Credentials from before the row binding are rewritten bound to their row, once.
      const upgraded = await store.credentials.upgradeLegacy();
      if (upgraded > 0) log.info({ upgraded }, "credentials from the format before v2 re-encrypted bound to their row");
    } catch (error) {
      if (!options.db) await db.close();
      throw error;
    }
    await seedAdminRoster(store, config.GHCONNECT_ADMINS);
    if (options.recordingThread) store.recordingThread = RecordingThread.start(db, log);
  }
  const storageChecks = options.inspectOnly
    ? () => inspectStorage({ db, url: config.DATABASE_URL, absent: inspected?.absent, box, store })
    : undefined;

  // One outbound transport for GitHub and Slack, through HTTPS_PROXY unless NO_PROXY exempts a host.
  const metrics = new Metrics({
    pendingApprovals: () => store.approvals.countPending(),
    operationsInFlight: async () => ((await store.operations.inFlight()) ? 1 : 0),
  });
  const fetch = createFetch({
    httpsProxy: config.HTTPS_PROXY,
    noProxy: config.NO_PROXY,
    onResponse: (host, status) => metrics.outbound.inc({ host, status: String(status) }),
  });
  const slackClient = new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl: config.SLACK_API_URL,
    logger: boltLogger(log),
    timeout: 10_000,
    retryConfig: SLACK_POSTING_RETRIES,
    ...(config.HTTPS_PROXY ? { fetch } : {}),
  });
  const probeSlack = slackProbe({
    token: config.SLACK_BOT_TOKEN,
    apiUrl: config.SLACK_API_URL,
    timeoutMs: CHECK_TIMEOUT_MS,
    ...(config.HTTPS_PROXY ? { fetch } : {}),
  });
  const slackProxy = proxyFor(config.SLACK_API_URL, config.HTTPS_PROXY, config.NO_PROXY);
  const slackWatch = new SlackWatch({ probe: probeSlack, log, proxy: slackProxy, everyMs: options.slackRecheckMs ?? 60_000 });
  const ghes = new GhesClient(config.GHES_URL, config.GHES_TOKEN, fetch);
  const manage = new ManageClient(config.GHES_MANAGE_URL, config.GHES_MANAGE_PASSWORD, fetch);
  const dotcom = new DotcomClient(config.GITHUB_URL, config.GITHUB_API_URL, fetch);
  const notifier = new SlackNotifier(slackClient, config.SLACK_ADMIN_CHANNEL, fetch, log);
  // People prove their GHES login and github.com account here; search and the roster use them.
  const personOAuth = new PersonOAuthClient({
    ghesUrl: config.GHES_URL,
    ghes:
      config.GHES_OAUTH_CLIENT_ID && config.GHES_OAUTH_CLIENT_SECRET
        ? { clientId: config.GHES_OAUTH_CLIENT_ID, clientSecret: config.GHES_OAUTH_CLIENT_SECRET }
        : undefined,
    githubUrl: config.GITHUB_URL,
    githubApiUrl: config.GITHUB_API_URL,
    fetch,
  });
  let workspace: string | undefined;
  const links = new LinkService({
    store,
    notifier,
    clock,
    urls: linkPageUrls(config.PUBLIC_URL),
    ghesHost: new URL(config.GHES_URL).host,
    githubSite: githubSiteName(config.GITHUB_URL),
    oauth: personOAuth,
    log,
    // For the link confirmation page: the workspace auth.test reported, else SLACK_TEAM_ID.
    workspace: () => workspace ?? config.SLACK_TEAM_ID,
  });
  const enable = new EnableFlow({
    store,
    ghes,
    manage,
    dotcom,
    notifier,
    clock,
    log,
    config: {
      pages: enablePageUrls(config.PUBLIC_URL),
      githubUrl: config.GITHUB_URL,
      ghesUrl: config.GHES_URL,
      uploadsUrl: config.GITHUB_UPLOADS_URL,
      proxy: config.HTTPS_PROXY,
      noProxy: config.NO_PROXY,
      addendumTtlMs: config.GHCONNECT_APPROVAL_TTL,
      githubTtlMs: 60 * 60_000,
    },
  });
  const { authorize, learned, home } = botAuthorize(slackClient, config.SLACK_BOT_TOKEN, log);
  const mode = config.SLACK_APP_TOKEN ? "socket" : "http";
  const receiver =
    mode === "socket"
      ? new SocketModeReceiver({
          appToken: config.SLACK_APP_TOKEN as string,
          logger: boltLogger(log),
          // apps.connections.open is retried (it is how the socket reconnects), but never more than 30 s apart.
          installerOptions: {
            clientOptions: {
              slackApiUrl: config.SLACK_API_URL,
              timeout: 10_000,
              retryConfig: { retries: 100, factor: 1.3, maxTimeout: 30_000 },
            },
          },
        })
      : new GatedHttpReceiver(log);
  const app = new App({
    receiver,
    authorize,
    logger: boltLogger(log),
    clientOptions: { slackApiUrl: config.SLACK_API_URL, timeout: 10_000, retryConfig: SLACK_POSTING_RETRIES },
    // Bolt's default conversation store keeps state in this process's memory (wrong with several
    // replicas) and builds a "not found" Error for every request; ghconnect keeps its state in the
    // database and never reads `context.conversation`.
    convoStore: false,
  });
  const onSlackError = async (error: Error) => {
    log.error({ err: error }, "unhandled error in a Slack listener");
  };
  app.error(onSlackError);

  const audit = (input: Parameters<Store["appendAudit"]>[0]) => store.appendAudit(input);
  store.onAudit(
    createAnnouncer({
      notifier,
      operationCard: async (id) => (await store.operations.get(id))?.card,
      approvalCard: async (id) => (await store.approvals.get(id))?.card,
      githubSite: githubSiteName(config.GITHUB_URL),
      onError: (error) => log.warn({ err: error }, "could not announce an audit entry"),
    }),
  );
  const disable = new DisableFlow({
    store,
    ghes,
    dotcom,
    notifier,
    clock,
    policy: config.GHCONNECT_DISCONNECT_APPROVAL,
    ttlMs: config.GHCONNECT_APPROVAL_TTL,
    executionLeaseMs: config.GHCONNECT_EXECUTION_LEASE,
    revokePersonLinks: (connectionId) => links.revokeForConnection(connectionId),
    log,
  });
  // This process's name where periodic jobs are claimed (jobs.locked_by).
  const replica = randomUUID().slice(0, 8);
  const tokens = new TokenKeeper({
    store,
    dotcom,
    notifier,
    clock,
    replica,
    tokenCache: (owner) =>
      new DatabaseTokenCache(store.credentials, owner, clock, (expiresAt) => store.connections.noteToken(owner.connectionId, expiresAt)),
    onRefresh: (outcome) => metrics.refreshes.inc({ outcome }),
  });
  const ghesAudit = new GhesAuditClient(config.GHES_URL, config.GHES_TOKEN, fetch);
  const nativeEvents = new NativeRepo(db.kysely, clock);
  const governed: GovernedFeatures = new GovernedFeatures({
    store,
    ghes,
    notifier,
    clock,
    policy: config.GHCONNECT_DISCONNECT_APPROVAL,
    ttlMs: config.GHCONNECT_APPROVAL_TTL,
    // The slug is GHES_ENTERPRISE, or what GHES told the watcher when it is not set.
    get settingsUrl() {
      return `${config.GHES_URL.replace(/\/+$/, "")}/enterprises/${native.knownEnterprise ?? "SLUG"}/settings/dotcom_connection`;
    },
    nativeState: async () => ((await native.enterprise()) ? foldNative(await nativeEvents.all()) : undefined),
    actionsEnabled: async () => {
      const enterprise: string | undefined = await native.enterprise();
      return enterprise
        ? ghesAudit.actionsEnabled(enterprise)
        : { ok: false, detail: "GHES_ENTERPRISE is not set and GHES did not tell the slug, so GHES's Actions setting cannot be read" };
    },
    log,
  });
  const native: NativeWatcher = new NativeWatcher({
    auditLog: ghesAudit,
    events: nativeEvents,
    takeExpected: (event) => governed.takeEvent(event),
    featureStates: () => store.features.all(),
    enterprise: config.GHES_ENTERPRISE,
    ghesUrl: config.GHES_URL,
    clock,
    appendAudit: audit,
    claim: (name, periodMs) => store.jobs.claimSlot(name, periodMs, replica),
  });
  // Its own client: a verification must say "Slack did not answer" rather than sit through the
  // default client's half hour of retries.
  const witnesses = new SlackWitnessReader(
    new WebClient(config.SLACK_BOT_TOKEN, {
      slackApiUrl: config.SLACK_API_URL,
      logger: boltLogger(log),
      timeout: 10_000,
      retryConfig: { retries: 1 },
      ...(config.HTTPS_PROXY ? { fetch } : {}),
    }),
    config.SLACK_ADMIN_CHANNEL,
    { proxy: slackProxy },
  );
  const status = new StatusCommand({ store, ghes, notifier, clock, githubUrl: dotcom.webUrl, nativeStatus: () => native.statusBlocks() });
  const checks = new Checks({
    store,
    ghes,
    manage,
    dotcom,
    notifier,
    witnesses,
    clock,
    nativeChecks: async () => [
      await native.check(),
      ...(await applianceProxyChecks({
        appliance: manage,
        botProxy: config.HTTPS_PROXY,
        // GitHub's documented list, as the bot's own preflight reaches it (GHE.com included).
        hosts: connectHosts({ webUrl: config.GITHUB_URL, apiUrl: config.GITHUB_API_URL, uploadsUrl: config.GITHUB_UPLOADS_URL })
          .filter((h) => h.required)
          .map((h): [string, string] => [h.role === "web" ? githubSiteName(config.GITHUB_URL) : h.role, h.url]),
        reachThrough: (proxy, url) =>
          new DotcomClient(config.GITHUB_URL, config.GITHUB_API_URL, createFetch({ httpsProxy: proxy })).reach(url),
      })),
    ],
    slackProbe: probeSlack,
    storageChecks,
    ...(config.HTTPS_PROXY ? { proxyProbe: () => probeProxy(config.HTTPS_PROXY as string, CHECK_TIMEOUT_MS) } : {}),
    config: {
      uploadsUrl: config.GITHUB_UPLOADS_URL,
      proxy: config.HTTPS_PROXY,
      noProxy: config.NO_PROXY,
      slackApiUrl: config.SLACK_API_URL,
      slackMode: mode,
      engine: db.engine,
      publicUrl: config.PUBLIC_URL,
      bootstrapAdmins: config.GHCONNECT_ADMINS.length,
      ghesOAuth: Boolean(config.GHES_OAUTH_CLIENT_ID && config.GHES_OAUTH_CLIENT_SECRET),
    },
  });
  const statistics = new ServerStatistics({ store, ghes, notifier, githubUrl: dotcom.webUrl });
  const features = new FeatureCommands({
    store,
    ghes,
    statistics,
    githubUrl: dotcom.webUrl,
    ghesUrl: config.GHES_URL,
    enterprise: () => native.enterprise(),
    governNative: (action, name, slackUserId) => governed.request(action, name, slackUserId),
  });
  const search = new SearchCommand({
    store,
    ghesUrl: ghes.url,
    dotcom,
    personToken: (slackUserId, side) => links.tokenFor(slackUserId, side),
    personSearchGhes: (token, query, limit, signal) => personOAuth.ghesSearch(token, query, limit, signal),
  });
  const auditCommands = new AuditCommands({ store, ghes, witnesses });
  const roster = new RosterCommands({ store, ghes });
  // A change recorded by this replica makes `status` read afresh. Entries named `command.*`
  // record a command that was answered or refused (status, help, search…), never a change: every
  // change has its own entry (enable.*, disable.*, feature.*, admins.*, token.*).
  store.onAudit((entry) => {
    if (!entry.action.startsWith("command.")) status.forget();
  });
  const router = new CommandRouter(
    {
      enable: (command, ctx) =>
        command.enterprise
          ? enable.requestEnterprise(command.org, ctx.slackUserId, ctx.replyRef)
          : enable.request(command.org, ctx.slackUserId, ctx.replyRef),
      disable: (command, ctx) => disable.request(command.org, ctx.slackUserId, command.enterprise ? "enterprise" : "organization"),
      status: (_command, ctx) => status.show(ctx.slackUserId, ctx.channelId),
      check: (_command, ctx) => checks.check(ctx.slackUserId),
      features: (_command, ctx) => features.list(ctx.slackUserId),
      feature: (command, ctx) => features.change(command.action, command.feature, ctx.slackUserId),
      search: (command, ctx) => search.run(command.query, ctx.slackUserId),
      audit: (command, ctx) => auditCommands.latest(command.limit, ctx.slackUserId),
      "audit-verify": (_command, ctx) => auditCommands.verify(ctx.slackUserId),
      admins: (_command, ctx) => roster.list(ctx.slackUserId),
      "admins-add": (command, ctx) => roster.add({ target: command.slackUserId, ghesLogin: command.ghesLogin, bySlack: ctx.slackUserId }),
      "admins-remove": (command, ctx) => roster.remove(command.slackUserId, ctx.slackUserId),
      link: (_command, ctx) => links.link(ctx.slackUserId),
      unlink: (command, ctx) => links.unlink(ctx.slackUserId, command.side),
      whoami: (_command, ctx) => links.whoami(ctx.slackUserId),
    },
    audit,
    { status: (_command, ctx) => status.showNow(ctx.slackUserId, ctx.channelId) },
  );
  // Every global middleware is also given to the command lane below, in the same order.
  const delivery = deliveryContext(store);
  app.use(delivery);
  // Work after acks: commands that call GitHub or change state, a few at a time; and the
  // recording of answers already given in acks, many at a time (their writes are batched).
  const inflight = new InFlight(8, config.GHCONNECT_QUEUE_LIMIT);
  const recording = new InFlight(RECORDING_SLOTS, 0);
  const recordingBacklog = options.recordingBacklog ?? RECORDING_BACKLOG;
  const guard = workspaceGuard({
    configured: configuredHome(config.SLACK_TEAM_ID),
    learned: home,
    appId: config.SLACK_APP_ID,
    notifier,
    record: (work) => recording.run(work),
    log,
  });
  app.use(guard);
  const run = <T>(work: () => Promise<T>) => inflight.run(work);
  const commandListener = registerCommandListener(app, {
    router,
    notifier,
    log,
    run,
    record: (work) => recording.run(work),
    saturated: () => inflight.saturated,
    recordingBackedUp: () => recording.size >= recordingBacklog,
    perUserLimit: config.GHCONNECT_USER_LIMIT,
    onCommand: (command, outcome) => metrics.commands.inc({ command, outcome }),
  });
  registerActionListeners(app, { enable, disable, governed, notifier, log, run });
  // Over HTTP, `/ghconnect` runs the same middleware and listener without Bolt's dispatch.
  if (receiver instanceof GatedHttpReceiver)
    receiver.commandLane = commandLane(SLASH_COMMAND, [delivery, guard], commandListener, onSlackError);

  const server = createAppServer({
    routes: [
      healthRoute({ db: databaseHealth(db), mode, slack: () => slackWatch.health }),
      ...githubRoutes(enable, log),
      ...linkRoutes(links, log, config.PUBLIC_URL),
    ],
    slackEvents:
      receiver instanceof GatedHttpReceiver
        ? slackEventsHandler(receiver, {
            signingSecret: config.SLACK_SIGNING_SECRET,
            bodyLimit: SLACK_BODY_LIMIT,
            responseUrlAllowed: responseUrlRule(config.SLACK_API_URL),
            log,
          })
        : undefined,
    onSlackAnswered: (seconds) => metrics.ack.observe({ kind: "http" }, seconds),
    log,
  });
  // /metrics is never on the public listener: it has its own, on loopback by default (SPEC §7).
  const metricsServer = config.METRICS_PORT === undefined ? undefined : createAppServer({ routes: [metrics.route()], log });

  // Every periodic duty, run by every replica right after start-up (recovery after a restart) and
  // then every interval. Expiries and recoveries are conditional transitions, so replicas sweeping
  // at once end each item once; pruning is claimed, so one replica prunes per hour.
  const sweeper = new Sweeper(
    [
      // Enables whose addendum, GitHub step or completion ran out of time or lost their bot.
      { name: "enable expiry", run: () => enable.expireStale() },
      // Disconnect requests that expired, and disconnects whose bot stopped renewing its lease.
      { name: "disconnect recovery", run: () => disable.expireStale() },
      // Refusals of the GitHub pages and the link callbacks, counted so far, audited (one entry
      // per page and reason a minute; the claim is conditional too).
      { name: "refusal audit", run: () => enable.flushRefusals() },
      // An enterprise's owners choose on GitHub the organizations its app is installed on: each
      // sweep asks GitHub (one call, with the app's JWT) and records and audits a change once.
      { name: "enterprise installations", run: () => watchEnterpriseInstallations({ store, dotcom }) },
      // Governed native-feature requests that expired unapproved or were not proven in time.
      { name: "native feature expiry", run: () => governed.expireStale() },
      {
        name: "slack_events pruning",
        run: async () => {
          if (await store.jobs.claim("prune-slack-events", 60 * 60_000, replica))
            await store.deliveries.prune(new Date(clock().getTime() - SLACK_DELIVERY_RETENTION_MS));
        },
      },
    ],
    options.sweepEveryMs ?? config.GHCONNECT_SWEEP_INTERVAL,
    log,
  );
  const refresh = () =>
    Promise.all([tokens.refreshIfDue(), statistics.daily(replica), links.refreshDue(), native.tick()]).catch((error) =>
      log.warn({ err: error }, "periodic job failed"),
    );
  const metricsAddress = () => {
    const address = metricsServer?.listening ? (metricsServer.address() as AddressInfo) : undefined;
    return address ? `${address.address}:${address.port}` : "off";
  };
  let refresher: NodeJS.Timeout | undefined;
  let started = false;
  let socket: SocketStart | undefined;
  return {
    store,
    enable,
    disable,
    tokens,
    checks,
    links,
    native,
    async listen(port = config.PORT) {
      // A token Slack refuses stops the start with the one line to fix; an unreachable Slack does
      // not: the bot starts degraded (/healthz 503), says why, and re-checks until Slack answers.
      const first = await probeSlack();
      if (!first.ok && first.reason === "token_refused")
        throw new ConfigError("SLACK_BOT_TOKEN", `was refused by Slack (${first.code}): ${slackProblem(first).advice.replace(/\.$/, "")}`);
      slackWatch.note(first);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, () => resolve());
      });
      if (metricsServer) {
        try {
          await listenOn(metricsServer, config.METRICS_PORT as number, config.METRICS_HOST);
        } catch (error) {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          throw new ConfigError(
            "METRICS_PORT",
            `could not be opened on ${config.METRICS_HOST}:${config.METRICS_PORT} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): choose a free port, or off`,
          );
        }
      }
      if (mode === "socket") {
        slackWatch.watchSocket((receiver as SocketModeReceiver).client);
        socket = await startSocketMode({
          start: () => app.start(),
          watch: slackWatch,
          log,
          waitMs: options.socketConnectWaitMs ?? 10_000,
          apiHost: new URL(config.SLACK_API_URL).host,
        });
        if (socket.refused) {
          // Slack refused the app-level token (invalid_auth, not_allowed_token_type…): say which
          // setting to fix rather than die on an unhandled rejection.
          await new Promise<void>((resolve) => server.close(() => resolve()));
          metricsServer?.close();
          throw new ConfigError(
            "SLACK_APP_TOKEN",
            `was refused by Slack when opening Socket Mode (${socket.refused}): it must be an app-level token (xapp-…) of this app with the connections:write scope`,
          );
        }
      }
      slackWatch.start();
      started = true;
      // The start-up probe's auth.test already told who the bot is and which workspace it serves,
      // so the workspace guard never makes the first requests wait for (or miss) a second call.
      if (first.ok) {
        learned(first.identity);
        workspace = first.identity.teamId ? `${first.team} (${first.identity.teamId})` : first.team;
      }
      // Awaited, so a bot that is listening has said it (once per installation; see roster.ts).
      await announcePendingRoster({ store, notifier, replica }).catch((error) =>
        log.warn({ err: error }, "could not announce the pending roster entries"),
      );
      sweeper.start();
      refresher = setInterval(refresh, 60_000);
      refresher.unref();
      const bound = (server.address() as AddressInfo).port;
      const slackNow = slackWatch.health;
      log.info(
        { port: bound, metrics: metricsAddress(), slack: mode, database: db.engine, slackStatus: slackNow.status },
        `ghconnect is listening${slackNow.status === "ok" ? "" : ` (degraded: ${slackNow.detail})`}`,
      );
      return bound;
    },
    metricsPort: () => (metricsServer?.listening ? (metricsServer.address() as AddressInfo).port : undefined),
    /** Stops accepting, lets work after acks finish (≤ 10 s), then closes the database. */
    async close() {
      slackWatch.stop();
      socket?.stop();
      if (refresher) clearInterval(refresher);
      const swept = sweeper.close();
      // Stop accepting (in-flight HTTP requests may finish), then wait for work after acks.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (started && mode === "socket") await app.stop().catch(() => {});
      const [done, recorded] = await Promise.all([inflight.drain(10_000), recording.drain(10_000)]);
      if (!done || !recorded) log.warn({ unfinished: inflight.size + recording.size }, "stopping with work still in flight");
      server.closeAllConnections();
      await closed;
      if (metricsServer?.listening) {
        const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        metricsServer.closeAllConnections();
        await metricsClosed;
      }
      await swept;
      // Writes the thread did not confirm before it ended go to the main thread: wait for those too.
      await store.recordingThread?.close();
      await recording.drain(5_000);
      if (!options.db) await db.close();
    },
  };
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
