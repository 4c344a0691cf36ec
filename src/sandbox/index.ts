// Starts every stand-in on 127.0.0.1 (one port per host, as the real services are separate
// hosts) and says which environment makes ghconnect talk to them. Used by tests, the demo and
// the benchmark; never by the app.
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { createFetch } from "../github/transport.js";
import { apiRoutes } from "./github/api.js";
import { applyFault, ok } from "./github/common.js";
import { ghesRoutes, manageRoutes } from "./github/ghes.js";
import { webRoutes } from "./github/web.js";
import { GitHubWorld, type HostName, seedWorld } from "./github/world.js";
import { closeServer, listen, SandboxRouter } from "./http.js";
import { type SandboxProxy, startProxy } from "./proxy.js";
import { SlackSandbox } from "./slack/server.js";

export const SANDBOX_ADMIN_CHANNEL = "C0ADMINS01";
const SANDBOX_NO_PROXY = "127.0.0.1,localhost";

/** The Slack users of the sandbox and who they are on GHES and github.com. */
export const SANDBOX_USERS = {
  alice: { slack: "U0ALICE001", ghes: "alice", github: "octocat", about: "site admin in the roster; owner of acme on github.com" },
  bob: { slack: "U0BOB00001", ghes: "bob", github: "hubot", about: "site admin in the roster; owner of octo-inc, not of acme" },
  carol: { slack: "U0CAROL001", ghes: "carol", github: "monalisa", about: "in the roster but no longer a GHES site admin; member of acme" },
  mallory: { slack: "U0MALLORY1", ghes: "dave", github: "ghost", about: "not an admin anywhere" },
} as const;

export type SandboxUserName = keyof typeof SANDBOX_USERS;

export interface Sandbox {
  world: GitHubWorld;
  slack: SlackSandbox;
  /** Where each host is, as the app and a browser address it (GHE.com names in that shape). */
  urls: { web: string; api: string; uploads: string; auth: string; ghes: string; manage: string; slackApi: string };
  routers: Record<HostName, SandboxRouter>;
  /** GHE.com shape: the proxy that resolves its host names (HTTPS_PROXY in env()). */
  proxy?: SandboxProxy;
  /** fetch as the app's host sees the network (through `proxy` for GHE.com names). */
  fetch: typeof globalThis.fetch;
  /** The environment that points ghconnect at this sandbox (HTTP mode; add SLACK_APP_TOKEN for Socket Mode). */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export interface SandboxOptions {
  botToken?: string;
  /**
   * A GHE.com-shaped host set (data residency): GitHub's hosts are SUBDOMAIN.ghe.com,
   * api.SUBDOMAIN.ghe.com, uploads.SUBDOMAIN.ghe.com and auth.ghe.com, resolved by a proxy stand-in; env() gives only GITHUB_URL,
   * so the app derives the others itself.
   */
  gheCom?: { subdomain: string };
  /** The version GHES reports (e.g. "3.11.5", older than GitHub Connect to GHE.com supports). */
  ghesVersion?: string;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const world = seedWorld(new GitHubWorld());
  if (options.ghesVersion) world.ghesVersion = options.ghesVersion;
  world.ghesToken = `ghes_${randomBytes(10).toString("hex")}`;
  world.managePassword = randomBytes(8).toString("hex");
  world.ghesOAuthApp = { clientId: `Ov23li${randomBytes(7).toString("hex")}`, clientSecret: randomBytes(20).toString("hex") };
  const botToken = options.botToken ?? `xoxb-sandbox-${randomBytes(8).toString("hex")}`;
  const slack = await new SlackSandbox({
    botToken,
    users: Object.entries(SANDBOX_USERS).map(([name, u]) => ({ id: u.slack, name })),
    channels: [
      { id: SANDBOX_ADMIN_CHANNEL, name: "ghes-admins" },
      { id: "C0GENERAL1", name: "general" },
    ],
  }).start();

  const servers: Server[] = [];
  const routers = {} as Record<HostName, SandboxRouter>;
  const urls = { web: "", api: "", uploads: "", auth: "", ghes: "", manage: "", slackApi: slack.apiUrl };
  // Ports first, so every router can build absolute URLs to the other hosts.
  const hosts: HostName[] = ["web", "api", "uploads", "auth", "ghes", "manage"];
  const handlers = new Map<HostName, SandboxRouter>();
  for (const host of hosts) {
    const { server, url } = await listen((req, res) => {
      const router = handlers.get(host);
      if (!router) return void res.writeHead(503).end();
      void router.handle(req, res, (r) => applyFault(world, host, r));
    });
    servers.push(server);
    urls[host] = url;
  }
  let proxy: SandboxProxy | undefined;
  if (options.gheCom) {
    // GitHub's roles under their GHE.com names, each played by its stand-in's port.
    const sub = options.gheCom.subdomain.toLowerCase();
    const names: Record<"web" | "api" | "uploads" | "auth", string> = {
      web: `${sub}.ghe.com`,
      api: `api.${sub}.ghe.com`,
      uploads: `uploads.${sub}.ghe.com`,
      auth: "auth.ghe.com",
    };
    proxy = await startProxy({
      names: new Map(Object.entries(names).map(([role, name]) => [name, new URL(urls[role as keyof typeof names]).host])),
    });
    // Plain http: the stand-ins speak no TLS; the names, the derivation and the proxy path are real.
    for (const [role, name] of Object.entries(names)) urls[role as keyof typeof names] = `http://${name}`;
  }
  const fetchLike = proxy ? createFetch({ httpsProxy: proxy.url, noProxy: SANDBOX_NO_PROXY }) : globalThis.fetch;
  routers.web = webRoutes(world, urls);
  routers.api = apiRoutes(world, urls);
  routers.uploads = new SandboxRouter().on("GET", "/", () => ok(world, { ok: true }));
  routers.auth = new SandboxRouter().on("GET", "/", () => ok(world, { ok: true }));
  routers.ghes = ghesRoutes(world, urls);
  routers.manage = manageRoutes(world);
  addControl(routers.web, world);
  for (const host of hosts) handlers.set(host, routers[host]);

  return {
    world,
    slack,
    urls,
    routers,
    env: () => ({
      SLACK_BOT_TOKEN: botToken,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_CHANNEL: SANDBOX_ADMIN_CHANNEL,
      GHES_URL: urls.ghes,
      GHES_TOKEN: world.ghesToken,
      GHES_MANAGE_URL: urls.manage,
      GHES_MANAGE_PASSWORD: world.managePassword,
      GHES_OAUTH_CLIENT_ID: world.ghesOAuthApp.clientId,
      GHES_OAUTH_CLIENT_SECRET: world.ghesOAuthApp.clientSecret,
      GHES_ENTERPRISE: world.enterpriseSlug,
      GITHUB_URL: urls.web,
      // GHE.com: the app derives the API and uploads hosts from GITHUB_URL, and reaches GitHub's
      // names through the proxy; everything on 127.0.0.1 (GHES, Slack, the bot) goes direct.
      ...(proxy ? { HTTPS_PROXY: proxy.url, NO_PROXY: SANDBOX_NO_PROXY } : { GITHUB_API_URL: urls.api, GITHUB_UPLOADS_URL: urls.uploads }),
      GHCONNECT_ADMINS: [SANDBOX_USERS.alice, SANDBOX_USERS.bob, SANDBOX_USERS.carol].map((u) => `${u.slack}:${u.ghes}`).join(","),
    }),
    proxy,
    fetch: fetchLike,
    async stop() {
      await Promise.all([...servers.map(closeServer), slack.stop(), proxy?.stop()]);
    },
  };
}

/** The control API, for driving the sandbox from another process (the demo, a browser test). */
function addControl(router: SandboxRouter, world: GitHubWorld): void {
  router.on("POST", "/_sandbox/fault", (req) => {
    const b = req.body as Record<string, unknown>;
    world.inject({
      host: (b.host as HostName | "any") ?? "any",
      status: b.status === undefined ? undefined : Number(b.status),
      retryAfter: b.retryAfter === undefined ? undefined : Number(b.retryAfter),
      delayMs: b.delayMs === undefined ? undefined : Number(b.delayMs),
      pathIncludes: b.pathIncludes as string | undefined,
      secondary: b.secondary === true || b.secondary === "true",
      times: b.times === undefined ? 1 : Number(b.times),
    });
    return { json: { ok: true, pending: world.faults.filter((f) => f.remaining > 0).length } };
  });
  router.on("POST", "/_sandbox/clock", (req) => {
    world.advance(Number((req.body as Record<string, unknown>).advanceMs ?? 0));
    return { json: { ok: true, now: new Date(world.now()).toISOString() } };
  });
  router.on("POST", "/_sandbox/next-app-owner", (req) => {
    world.nextAppOwnerOverride = String((req.body as Record<string, unknown>).org ?? "") || undefined;
    return { json: { ok: true } };
  });
}
