// The state behind the GitHub stand-ins: organizations, users, apps, installations, tokens, the
// GHES instance, and a clock that tests can move. Seeded with a small cast (see SEED below).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { GhesAuditEvent } from "./ghes-audit.js";

export interface Org {
  login: string;
  id: number;
}

/** An enterprise account: its owners, and the organizations it owns (by login). */
export interface Enterprise {
  slug: string;
  id: number;
  name: string;
  owners: string[];
  members: string[];
  orgs: string[];
}

export interface DotcomUser {
  login: string;
  id: number;
  /** org login → role; "admin" is an owner. */
  memberships: Record<string, "admin" | "member">;
}

export interface GhesUser {
  login: string;
  id: number;
  site_admin: boolean;
}

export interface AppRecord {
  id: number;
  slug: string;
  name: string;
  owner: Org;
  clientId: string;
  clientSecret: string;
  webhookSecret: string | null;
  pem: string;
  publicKeyPem: string;
  manifest: Record<string, unknown>;
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
  createdBy: string;
  deleted: boolean;
  /** Set for an enterprise-owned app (registered by hand; `owner` then holds the slug and id). */
  enterprise?: string;
}

export interface Installation {
  id: number;
  appId: number;
  account: Org;
  /** Installed on the enterprise account itself (an enterprise-owned app; enterprise permissions only). */
  onEnterprise?: boolean;
  createdAt: string;
  deleted: boolean;
  suspended: boolean;
}

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: number;
  revoked: boolean;
}

export interface Issue {
  repo: string;
  number: number;
  title: string;
  state: "open" | "closed";
  pull: boolean;
  updatedAt: string;
  score: number;
  /** Private repositories are visible to their collaborators (GHES) or the org's members (github.com). */
  visibility?: "public" | "private";
}

export interface Fault {
  host: HostName | "any";
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  /** The response waits until this settles: a GitHub that stops answering, released by the test. */
  until?: Promise<unknown>;
  /** Only requests whose path contains this string. */
  pathIncludes?: string;
  /** Only requests with this method (GET, DELETE…). */
  method?: string;
  /** GitHub's secondary rate limit (403 with a message) instead of a plain status. */
  secondary?: boolean;
  /**
   * A request that hangs, as behind a stalled proxy or an overloaded GitHub: it waits until
   * released, then is served normally; if its client goes away first, GitHub never acts on it.
   */
  hold?: Hold;
  remaining: number;
}

export interface Hold {
  /** Resolves when a matching request has arrived and is being held. */
  arrived: Promise<void>;
  /** Serves the held request (and any later one this hold catches) normally. */
  release(): void;
  /** Called by the stand-in when a request is caught. */
  caught(): void;
  released: Promise<void>;
}

export type HostName = "web" | "api" | "uploads" | "auth" | "ghes" | "manage";

export class GitHubWorld {
  readonly orgs: Org[] = [];
  readonly enterprises: Enterprise[] = [];
  readonly users: DotcomUser[] = [];
  readonly ghesUsers: GhesUser[] = [];
  readonly apps: AppRecord[] = [];
  readonly installations: Installation[] = [];
  readonly tokens: InstallationToken[] = [];
  /** github.com user-to-server tokens: they expire (8 hours) and are refreshed (refresh tokens last 6 months). */
  readonly userTokens = new Map<string, { login: string; appId: number; expiresAt: number; revoked?: boolean }>();
  readonly refreshTokens = new Map<string, { login: string; appId: number; expiresAt: number; used: boolean }>();
  /** The OAuth app registered on GHES for person linking (GHES_OAUTH_CLIENT_ID/SECRET). */
  ghesOAuthApp = { clientId: "", clientSecret: "" };
  readonly ghesOAuthCodes = new Map<string, { login: string; createdAt: number; used: boolean; redirectUri: string }>();
  readonly ghesUserTokens = new Map<string, { login: string; scopes: string[]; revoked: boolean }>();
  /** GHES private repositories and who may see them (their collaborators). */
  readonly ghesCollaborators: Record<string, string[]> = {};
  /** Who each search ran as (a login, "site-admin" or "installation"), for tests that check whose eyes searched. */
  readonly searches: Array<{ host: "ghes" | "github"; as: string }> = [];
  /** The GHES user signed in to the browser, unless a cookie says otherwise. */
  ghesBrowserUser = "alice";
  readonly manifestCodes = new Map<string, { appId: number; createdAt: number; used: boolean }>();
  readonly oauthCodes = new Map<string, { appId: number; login: string; createdAt: number; used: boolean }>();
  readonly faults: Fault[] = [];
  readonly dotcomIssues: Array<Issue & { org: string }> = [];
  readonly ghesIssues: Issue[] = [];
  ghesVersion = "3.19.2";
  ghesHostname = "ghes.example.com";
  licenseExpiresAt = "2027-06-30T23:59:59Z";
  licenseCompany = "Example Corp";
  managePassword = "manage-secret";
  ghesToken = "ghes-site-admin-token";
  /** The scopes GHES_TOKEN carries (the audit log needs admin:enterprise or read:audit_log). */
  ghesTokenScopes: string[] = ["site_admin", "admin:enterprise"];
  /** GHES's one enterprise account, as in /enterprises/SLUG. */
  enterpriseSlug = "example";
  /** GHES's enterprise audit log (see ghes-audit.ts), oldest first. */
  readonly ghesAuditLog: GhesAuditEvent[] = [];
  /** The appliance's own proxy (Management Console → Privacy → HTTP proxy server), or null. */
  applianceHttpProxy: string | null = null;
  /** GitHub Actions enabled on GHES (a prerequisite of actions from GitHub.com). */
  ghesActionsEnabled = true;
  /** The github.com user signed in to the browser, unless a request says otherwise. */
  browserUser = "octocat";
  /** Apps created by the next manifest submission go to this org instead (fault: wrong owner). */
  nextAppOwnerOverride?: string;
  clockOffsetMs = 0;
  /** Set by freeze(): the clock stands at this time and moves only by advance(). */
  private frozenAt?: number;
  private nextId = 100;

  now(): number {
    return this.frozenAt ?? Date.now() + this.clockOffsetMs;
  }

  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.clockOffsetMs += ms;
  }

  /** Stops the clock (both sides follow it), so a duration a test reads is exact, not "59 or 60". */
  freeze(): void {
    this.frozenAt = this.now();
  }

  id(): number {
    return ++this.nextId;
  }

  org(login: string): Org | undefined {
    return this.orgs.find((o) => o.login.toLowerCase() === login.toLowerCase());
  }

  enterprise(slug: string): Enterprise | undefined {
    return this.enterprises.find((e) => e.slug.toLowerCase() === slug.toLowerCase());
  }

  user(login: string): DotcomUser | undefined {
    return this.users.find((u) => u.login.toLowerCase() === login.toLowerCase());
  }

  /**
   * What a GHES site admin's rename does (`ghe-user-rename`, or the Site admin page): the login
   * changes, the account keeps its id, its rights and its OAuth tokens. The sandbox keys tokens
   * and codes by login, so they follow the account here.
   */
  renameGhesUser(from: string, to: string): void {
    const user = this.ghesUsers.find((u) => u.login === from);
    if (!user) throw new Error(`There is no GHES user ${from} to rename.`);
    if (this.ghesUsers.some((u) => u.login.toLowerCase() === to.toLowerCase())) throw new Error(`The GHES login ${to} is taken.`);
    user.login = to;
    for (const held of [...this.ghesUserTokens.values(), ...this.ghesOAuthCodes.values()]) if (held.login === from) held.login = to;
    for (const logins of Object.values(this.ghesCollaborators))
      logins.splice(0, logins.length, ...logins.map((l) => (l === from ? to : l)));
    if (this.ghesBrowserUser === from) this.ghesBrowserUser = to;
  }

  app(predicate: (a: AppRecord) => boolean): AppRecord | undefined {
    return this.apps.find((a) => !a.deleted && predicate(a));
  }

  createApp(owner: Org, manifest: Record<string, unknown>, createdBy: string): AppRecord {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const name = String(manifest.name);
    const id = this.id();
    const app: AppRecord = {
      id,
      slug: slugify(name),
      name,
      owner,
      clientId: `Iv23li${randomBytes(7).toString("hex")}`,
      clientSecret: randomBytes(20).toString("hex"),
      webhookSecret: manifest.hook_attributes ? randomBytes(16).toString("hex") : null,
      pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      manifest,
      permissions: { metadata: "read", ...((manifest.default_permissions as Record<string, string>) ?? {}) },
      events: (manifest.default_events as string[]) ?? [],
      createdAt: new Date(this.now()).toISOString(),
      createdBy,
      deleted: false,
    };
    this.apps.push(app);
    return app;
  }

  /** Consumes the next matching fault, if any. */
  takeFault(host: HostName, path: string, method = "GET"): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.host === host || f.host === "any") &&
        (!f.pathIncludes || path.includes(f.pathIncludes)) &&
        (!f.method || f.method === method),
    );
    if (fault) fault.remaining--;
    return fault;
  }

  inject(fault: Omit<Fault, "remaining"> & { times?: number }): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Holds the next matching request (see Fault.hold) until the returned hold is released. */
  hold(match: { host: HostName; method?: string; pathIncludes?: string }): Hold {
    let arrive = () => {};
    let release = () => {};
    const hold: Hold = {
      arrived: new Promise<void>((resolve) => {
        arrive = resolve;
      }),
      released: new Promise<void>((resolve) => {
        release = resolve;
      }),
      caught: () => arrive(),
      release: () => release(),
    };
    this.faults.push({ ...match, hold, remaining: 1 });
    return hold;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }
}

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The cast every sandbox starts with. */
export function seedWorld(world = new GitHubWorld()): GitHubWorld {
  world.orgs.push({ login: "acme", id: 9001 }, { login: "octo-inc", id: 9002 });
  // octocat owns the enterprise acme-corp; hubot owns its organization octo-inc but not the enterprise.
  world.enterprises.push(
    {
      slug: "acme-corp",
      id: 7001,
      name: "Acme Corp",
      owners: ["octocat"],
      members: ["octocat", "hubot", "monalisa"],
      orgs: ["acme", "octo-inc"],
    },
    { slug: "globex", id: 7002, name: "Globex", owners: ["hubot"], members: ["hubot"], orgs: [] },
  );
  world.users.push(
    { login: "octocat", id: 501, memberships: { acme: "admin" } },
    { login: "monalisa", id: 502, memberships: { acme: "member" } },
    { login: "hubot", id: 503, memberships: { "octo-inc": "admin" } },
    { login: "ghost", id: 504, memberships: {} },
  );
  world.ghesUsers.push(
    { login: "alice", id: 11, site_admin: true },
    { login: "bob", id: 12, site_admin: true },
    { login: "carol", id: 13, site_admin: false },
    { login: "dave", id: 14, site_admin: false },
  );
  const day = (n: number) => new Date(Date.UTC(2026, 10, n)).toISOString();
  world.ghesIssues.push(
    {
      repo: "platform/deploy",
      number: 12,
      title: "Flaky test in deploy pipeline",
      state: "open",
      pull: false,
      updatedAt: day(20),
      score: 9,
    },
    { repo: "platform/deploy", number: 15, title: "Fix flaky test retry logic", state: "closed", pull: true, updatedAt: day(22), score: 8 },
    { repo: "web/storefront", number: 3, title: "Checkout button misaligned", state: "open", pull: false, updatedAt: day(18), score: 5 },
    {
      repo: "security/vault",
      number: 4,
      title: "Flaky test leaks the unseal key",
      state: "open",
      pull: false,
      updatedAt: day(25),
      score: 9.8,
      visibility: "private",
    },
  );
  world.ghesCollaborators["security/vault"] = ["alice"];
  world.dotcomIssues.push(
    {
      org: "acme",
      repo: "acme/api",
      number: 101,
      title: "Flaky test on Windows runners",
      state: "open",
      pull: false,
      updatedAt: day(23),
      score: 9.5,
      visibility: "private",
    },
    {
      org: "acme",
      repo: "acme/api",
      number: 102,
      title: "Quarantine flaky test suite",
      state: "open",
      pull: true,
      updatedAt: day(21),
      score: 7,
      visibility: "private",
    },
    {
      org: "octo-inc",
      repo: "octo-inc/secret",
      number: 7,
      title: "Flaky test (octo-inc only)",
      state: "open",
      pull: false,
      updatedAt: day(24),
      score: 10,
      visibility: "private",
    },
  );
  return world;
}
