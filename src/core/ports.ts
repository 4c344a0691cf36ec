// What core needs from the outside world, as interfaces. github/, slack/ and db/ implement them;
// tests may too. No Octokit, Bolt or SQL types cross this line.
import type { Message } from "./message.js";
import type { CredentialKind, CredentialOwner } from "./model.js";
import type { Witness, WitnessReading } from "./witness.js";

/** How adapters make HTTP requests: the global fetch's shape, so a proxied or fake one fits. */
export type FetchLike = typeof globalThis.fetch;

/** GitHub's verdict on a client secret, or why it gave none (`status`: its HTTP status, null when it did not answer). */
export type ClientSecretCheck = { kind: "accepted" } | { kind: "refused" } | { kind: "unchecked"; status: number | null };

export interface CredentialVault {
  get(owner: CredentialOwner, kind: CredentialKind): Promise<{ secret: string; expiresAt: string | null } | undefined>;
  put(owner: CredentialOwner, kind: CredentialKind, secret: string, expiresAt?: Date): Promise<void>;
}

export interface GhesUserStatus {
  exists: boolean;
  siteAdmin: boolean;
}

export interface LicenseFacts {
  customerName: string;
  publicKey: string;
  hostname: string;
  /** The license as the Management Console returns it; its SHA-256 is the connection's license hash. */
  licenseData: Record<string, unknown>;
  expiresAt: string | null;
}

export interface SearchHit {
  source: "ghes" | "github";
  title: string;
  url: string;
  repo: string;
  number: number;
  state: string;
  isPullRequest: boolean;
  updatedAt: string;
  score: number;
}

export interface GhesGateway {
  readonly url: string;
  /** `signal` ends the request early (a check's time limit). */
  version(signal?: AbortSignal): Promise<string>;
  user(login: string): Promise<GhesUserStatus>;
  stats(): Promise<Record<string, unknown>>;
}

export interface ManageGateway {
  readonly configured: boolean;
  /** The Management Console's host, for messages. */
  readonly host?: string;
  licenseFacts(signal?: AbortSignal): Promise<LicenseFacts>;
}

export interface CreatedApp {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  owner: string;
  ownerId: number;
  htmlUrl: string;
  pem: string;
  clientSecret: string;
  webhookSecret: string | null;
}

/** An app registration as GitHub shows it to the app itself (`GET /app` with its JWT). */
export interface RegisteredApp {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  /** The owning account: an enterprise (by slug) or a user or organization (by login). */
  owner: { kind: "enterprise" | "organization" | "user"; login: string };
  permissions: Record<string, string>;
}

/** What an enterprise owner check learns with the person's own token (GraphQL `enterprise(slug:)`). */
export interface EnterpriseView {
  /** False when the slug names no enterprise the person can see. */
  exists: boolean;
  viewerIsAdmin: boolean;
  /** Logins of the enterprise's organizations (the accounts its apps may be installed on). */
  organizations: string[];
}

export interface AppCredentials {
  appId: number;
  privateKey: string;
}

/** An installation token and when GitHub said it expires. */
export interface InstallationToken {
  token: string;
  expiresAt: string;
}

/** Where installation tokens are kept between calls (encrypted in the database, shared by replicas). */
export interface TokenCache {
  /** The kept token while it has long enough left to use; undefined: a new one is to be minted. */
  get(): Promise<InstallationToken | undefined>;
  /** Keeps a token GitHub just minted. */
  set(token: InstallationToken): Promise<void>;
}

export interface Reach {
  host: string;
  ok: boolean;
  kind: string;
  detail: string;
  /** GitHub's Date header, for the clock-skew check. */
  date?: string;
}

export interface DotcomGateway {
  readonly webUrl: string;
  readonly apiUrl: string;
  convertManifest(code: string): Promise<CreatedApp>;
  exchangeOAuthCode(clientId: string, clientSecret: string, code: string): Promise<string>;
  /**
   * Revokes a user token of the app (`DELETE /applications/{client_id}/token`, Basic auth with the
   * client id and secret); a token already revoked or expired counts as revoked.
   */
  revokeUserToken(clientId: string, clientSecret: string, userToken: string): Promise<void>;
  currentUser(userToken: string): Promise<{ login: string }>;
  membership(userToken: string, org: string): Promise<{ state: string; role: string } | null>;
  /** The enterprise as the person sees it: do they own it, which organizations does it have. */
  enterprise(userToken: string, slug: string): Promise<EnterpriseView>;
  /** GET /app/installations with the app's JWT: every account the app is installed on (`suspended`: `suspended_at` is set). */
  installations(app: AppCredentials): Promise<Array<{ id: number; account: string; onEnterprise: boolean; suspended: boolean }>>;
  /** GET /app with the app's JWT; null when GitHub refuses the JWT (the key is not this app's). */
  registeredApp(app: AppCredentials): Promise<RegisteredApp | null>;
  /**
   * Whether GitHub accepts this client id and secret ("Check a token" with a token that cannot
   * exist): only 404 (or 200) accepts and 401 refuses; any other answer proves nothing.
   */
  clientSecretAccepted(clientId: string, clientSecret: string): Promise<ClientSecretCheck>;
  installation(
    app: AppCredentials,
    installationId: number,
  ): Promise<{ id: number; account: string; accountId: number; onEnterprise?: boolean } | null>;
  /** The installation token from `cache`, or a fresh one, kept in `cache` (always fresh with `refresh`). */
  installationToken(
    app: AppCredentials,
    installationId: number,
    cache: TokenCache,
    options?: { refresh?: boolean },
  ): Promise<InstallationToken>;
  reach(url: string, signal?: AbortSignal): Promise<Reach>;
  /**
   * Issues and pull requests in `org` (or, for an enterprise, each of its organizations listed),
   * with the searching person's own github.com user token: never the installation's.
   */
  searchIssues(token: string, org: string | string[], query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]>;
  /** DELETE /installation/token: the token stops working at once. */
  revokeInstallationToken(token: string): Promise<void>;
  /** DELETE /app/installations/{id} with the app's JWT; false when it was already gone. */
  uninstall(app: AppCredentials, installationId: number): Promise<boolean>;
  /** GET /app with the app's JWT: does the registration still exist? */
  appExists(app: AppCredentials): Promise<boolean>;
}

/** Where the bot speaks: the admin channel (one card per operation, updated) and private replies. */
export interface Notifier {
  readonly adminChannel: string;
  post(channel: string, message: Message, threadTs?: string): Promise<{ channel: string; ts: string } | undefined>;
  /** True when Slack took the update. */
  update(card: { channel: string; ts: string }, message: Message): Promise<boolean>;
  /** A private reply through a command's or click's response_url; true when Slack took it. */
  reply(responseUrl: string, message: Message, options?: { replaceOriginal?: boolean }): Promise<boolean>;
  /** Posts an audit entry's line carrying its witness (seq and hash) in a machine-readable form too. */
  postWitnessed(line: { channel: string; message: Message; threadTs?: string; witness: Witness }): Promise<void>;
}

/** The admin channel read back: the witnesses the bot itself posted there (SPEC §5). */
export interface WitnessSource {
  read(): Promise<WitnessReading>;
}

/** What Slack said when asked who the bot token is (auth.test), or why it could not be asked. */
export type SlackProbe =
  | {
      ok: true;
      host: string;
      team: string;
      botUser: string;
      scopes: string[];
      /** auth.test's own answer: who the bot is and which workspace (or organization) it serves. */
      identity: { botId?: string; botUserId?: string; teamId?: string; enterpriseId?: string; enterpriseInstall: boolean };
    }
  | {
      ok: false;
      host: string;
      /** token_refused: Slack answered with an auth error; network: no answer; http: an error page. */
      reason: "token_refused" | "network" | "http";
      /** Slack's error code (invalid_auth…), the network failure kind (dns…), or the HTTP status. */
      code: string;
      detail: string;
    };

/** The bot's own database as /healthz sees it. */
export interface DatabaseHealth {
  /** sqlite or postgres, for the health report. */
  readonly engine: string;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
}

/** Whether Slack can be used right now (for /healthz). */
export interface SlackHealth {
  status: "ok" | "unreachable" | "token_refused" | "socket_down";
  detail: string;
  /** When this state began (ISO). */
  since: string;
}

/** The store core uses, one port per repository (see store-ports.ts). */
export type {
  AdminsStore,
  ApprovalsStore,
  AuditLogStore,
  ConnectionsStore,
  CredentialsStore,
  FeaturesStore,
  FlowRepos,
  FlowStore,
  JobsStore,
  OperationsStore,
  RefusalsStore,
  StatesStore,
  StatsStore,
} from "./store-ports.js";
