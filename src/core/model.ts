// The product's records, as core sees them (the db/ layer maps rows to these), and the shapes
// core hands the store when it writes them.
import type { AuditInput } from "./audit.js";

export type OperationStatus =
  | "preflight"
  | "awaiting_addendum"
  | "awaiting_github"
  | "awaiting_install"
  | "completing"
  | "succeeded"
  | "failed"
  | "expired"
  | "cancelled";

export const IN_FLIGHT: readonly OperationStatus[] = [
  "preflight",
  "awaiting_addendum",
  "awaiting_github",
  "awaiting_install",
  "completing",
];

/** What the preflight learned about this server; it goes into the connection record. */
export interface ServerFacts {
  ghesHostname: string;
  ghesVersion: string;
  licenseCustomerName: string;
  licensePublicKey: string;
  licenseHash: string;
  licenseExpiresAt: string | null;
}

/** What ghconnect connects to: an organization (`enable ORG`) or an enterprise account (`enable enterprise:SLUG`). */
export type AccountKind = "organization" | "enterprise";

export interface Operation {
  id: string;
  kind: "enable" | "disable";
  /** The account's login (organization) or slug (enterprise). */
  org: string;
  accountKind: AccountKind;
  status: OperationStatus;
  version: number;
  requestedBySlack: string;
  requestedByGhes: string | null;
  responseUrl: string | null;
  card: { channel: string; ts: string } | null;
  appName: string | null;
  app: { id: number; slug: string; clientId: string; owner: string } | null;
  githubLogin: string | null;
  installationId: number | null;
  addendumVersion: string | null;
  addendumAcceptedAt: string | null;
  facts: ServerFacts | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
}

/** An operation as core starts it; the store fills in its status, version and times. */
export interface NewOperation {
  id: string;
  kind: "enable" | "disable";
  org: string;
  /** Default: an organization. */
  accountKind?: AccountKind;
  requestedBySlack: string;
  requestedByGhes: string | null;
  responseUrl: string | null;
  appName: string | null;
  expiresAt: Date;
}

/** What a transition of an operation changes besides moving it on. */
export type OperationPatch = Partial<{
  status: OperationStatus;
  card: { channel: string; ts: string };
  app: { id: number; slug: string; clientId: string; owner: string };
  githubLogin: string;
  installationId: number;
  addendumVersion: string;
  addendumAcceptedAt: string;
  facts: ServerFacts;
  error: string | null;
  expiresAt: Date;
}>;

export interface Connection {
  id: string;
  accountKind: AccountKind;
  org: string;
  /** For an enterprise: the organizations its app is installed on, as last seen. */
  installedOn: string[] | null;
  /**
   * For an enterprise: the installations it may move to when its own is removed, the ones a
   * proven enterprise owner's install flow left at completion (null: none recorded).
   */
  trustedInstallations: number[] | null;
  /** For an enterprise: when its installation was removed with no trusted one left to move to. */
  installationLostAt: string | null;
  accountId: number | null;
  status: "active" | "disconnected";
  version: number;
  appId: number | null;
  appSlug: string | null;
  appName: string | null;
  appClientId: string | null;
  appSettingsUrl: string | null;
  installationId: number | null;
  facts: ServerFacts;
  connectedBy: { slack: string; ghes: string; github: string };
  connectedAt: string;
  disconnectedAt: string | null;
  disconnectedBySlack: string | null;
  registrationDeletedAt: string | null;
  tokenExpiresAt: string | null;
  tokenRefreshFailedAt: string | null;
  lastCheckedAt: string | null;
  lastGithubOkAt: string | null;
  ghesVersionNow: string | null;
}

/** A connection as enable records it: active at version 1, with what the rest starts empty. */
export type NewConnectionRecord = Omit<
  Connection,
  | "status"
  | "version"
  | "disconnectedAt"
  | "disconnectedBySlack"
  | "registrationDeletedAt"
  | "tokenRefreshFailedAt"
  | "lastCheckedAt"
  | "ghesVersionNow"
  | "installedOn"
  | "trustedInstallations"
  | "installationLostAt"
> & { operationId: string; installedOn?: string[] | null; trustedInstallations?: number[] | null };

/** The credentials GitHub hands over when the app is created, and the installation token. */
export type CredentialKind = "private_key" | "client_secret" | "webhook_secret" | "installation_token";

export type CredentialOwner = { operationId: string } | { connectionId: string };

export type ApprovalStatus = "pending" | "approved" | "executing" | "done" | "failed" | "cancelled" | "expired" | "stale";

/** A request to disconnect, and who may approve it (SPEC §4). */
export interface Approval {
  id: string;
  action: "disconnect";
  connectionId: string;
  connectionVersion: number;
  org: string;
  policy: "self" | "peer";
  status: ApprovalStatus;
  requestedBySlack: string;
  /** The GHES login the requester was an admin as when they asked; null on requests made before it was kept. */
  requestedByGhes: string | null;
  /** The requester's proven GHES user id when they asked (it survives renames); null before it was kept or with no GHES link. */
  requestedByGhesId: number | null;
  requestedAt: string;
  expiresAt: string;
  decidedBySlack: string | null;
  decidedAt: string | null;
  card: { channel: string; ts: string } | null;
  error: string | null;
}

/** An entry of the admin roster, with the GHES login (and its user id) its Slack user proved. */
export interface AdminRecord {
  slackUserId: string;
  ghesLogin: string;
  addedBy: string;
  addedAt: string;
  /** The GHES login this Slack user proved with `/ghconnect link`, if any. */
  provenGhesLogin: string | null;
  /** That GHES account's user id, which survives renames; null on links made before ids were kept. */
  provenGhesId: number | null;
}

/** A GitHub Connect feature's state: on/off, who changed it and when. Absent means off. */
export interface FeatureState {
  name: string;
  enabled: boolean;
  changedBySlack: string;
  changedAt: string;
}

/**
 * What a one-time `state` value is for. manifest: the org app's creation; register: an enterprise
 * app's credentials form; install: the installer's return; link-ghes / link-github: a person's
 * start link (from Slack, until confirmed); link-ghes-signin / link-github-signin: the OAuth state
 * of the confirmed sign-in; link-bind: its browser binding.
 */
export type StatePurpose =
  | "manifest"
  | "register"
  | "install"
  | "link-ghes"
  | "link-github"
  | "link-ghes-signin"
  | "link-github-signin"
  | "link-bind";

/** A `state` value looked up (or used): the operation (or person) it is bound to, or why it does not stand. */
export type StateCheck =
  | { ok: true; operationId: string /** When the state was made (ISO), e.g. when a person asked for a link. */; createdAt: string }
  | { ok: false; reason: "unknown" | "used" | "expired" | "wrong_purpose"; operationId?: string };

/** Refusals an audit entry now stands for: `count` of them, the first at `since`. */
export interface DueTally {
  entry: AuditInput;
  count: number;
  since: string;
}
