// GHES's native GitHub Connect, as its enterprise audit log tells it. GitHub offers no API to read
// or switch native Connect; the audit log is the one record GHES keeps of it, so the bot reads
// that and folds the events into the state `status` shows.
//
// The action names are GitHub's published ones: "Audit log events for your enterprise",
// `dotcom_connection` category (https://docs.github.com/en/enterprise-server@3.19/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/audit-log-events-for-your-enterprise#dotcom_connection):
//   dotcom_connection.create               a GitHub Connect connection to GitHub.com was created
//   dotcom_connection.destroy              a GitHub Connect connection to GitHub.com was deleted
//   dotcom_connection.token_updated        the GitHub Connect connection token was updated
//   dotcom_connection.upload_license_usage GHES license usage was manually uploaded to GHEC
//   dotcom_connection.upload_usage_metrics GHES usage metrics were uploaded to GitHub.com
// That list publishes no event for switching an individual Connect feature (license sync,
// Dependabot, actions from GitHub.com, unified contributions): FEATURE_EVENTS says so per feature,
// and a governed change of those is confirmed by a person rather than verified by an event.
import type { FeatureName } from "../features.js";

export const DOTCOM_CONNECTION_ACTIONS = {
  create: "dotcom_connection.create",
  destroy: "dotcom_connection.destroy",
  tokenUpdated: "dotcom_connection.token_updated",
  uploadLicenseUsage: "dotcom_connection.upload_license_usage",
  uploadUsageMetrics: "dotcom_connection.upload_usage_metrics",
} as const;

/** The `phrase` the watcher searches with: the whole `dotcom_connection` category. */
export const NATIVE_PHRASE = "action:dotcom_connection";

/** The native features GHES switches itself, and the audit event GitHub publishes for each toggle (none today). */
export const FEATURE_EVENTS: Partial<Record<FeatureName, { enable: string | null; disable: string | null }>> = {
  "license-sync": { enable: null, disable: null },
  dependabot: { enable: null, disable: null },
  actions: { enable: null, disable: null },
  "unified-contributions": { enable: null, disable: null },
};

/** One enterprise audit-log entry, as much of it as the bot uses. */
export interface NativeEvent {
  /** GitHub's `_document_id`: unique per event, so seeing one twice is harmless. */
  id: string;
  action: string;
  actor: string;
  /** When GHES recorded it (its `created_at`, GHES's clock), ISO 8601. */
  at: string;
  /** The github.com account of a `dotcom_connection.create`, where GHES gives it. */
  account?: string;
}

/** Native Connect as the events seen so far tell it. */
export interface NativeState {
  connected: boolean | undefined;
  account?: string;
  since?: string;
  by?: string;
  disconnectedAt?: string;
  disconnectedBy?: string;
  tokenUpdatedAt?: string;
  licenseUploadedAt?: string;
  metricsUploadedAt?: string;
}

/** Folds events (any order) into the state; the newest event of each kind wins. */
export function foldNative(events: NativeEvent[]): NativeState {
  const state: NativeState = { connected: undefined };
  for (const e of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    switch (e.action) {
      case DOTCOM_CONNECTION_ACTIONS.create:
        Object.assign(state, {
          connected: true,
          account: e.account,
          since: e.at,
          by: e.actor,
          disconnectedAt: undefined,
          disconnectedBy: undefined,
        });
        break;
      case DOTCOM_CONNECTION_ACTIONS.destroy:
        Object.assign(state, { connected: false, disconnectedAt: e.at, disconnectedBy: e.actor });
        break;
      case DOTCOM_CONNECTION_ACTIONS.tokenUpdated:
        state.tokenUpdatedAt = e.at;
        break;
      case DOTCOM_CONNECTION_ACTIONS.uploadLicenseUsage:
        state.licenseUploadedAt = e.at;
        break;
      case DOTCOM_CONNECTION_ACTIONS.uploadUsageMetrics:
        state.metricsUploadedAt = e.at;
        break;
    }
  }
  return state;
}

/** True for events that change native Connect (uploads are routine traffic, not changes). */
export function isChange(e: NativeEvent): boolean {
  return (
    e.action === DOTCOM_CONNECTION_ACTIONS.create ||
    e.action === DOTCOM_CONNECTION_ACTIONS.destroy ||
    e.action === DOTCOM_CONNECTION_ACTIONS.tokenUpdated
  );
}

const hhmm = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** The admin channel's sentence for a change seen in GHES's settings rather than made through ghconnect. */
export function driftLine(e: NativeEvent): string {
  const what =
    e.action === DOTCOM_CONNECTION_ACTIONS.create
      ? `GitHub Connect was enabled${e.account ? ` (to ${e.account})` : ""}`
      : e.action === DOTCOM_CONNECTION_ACTIONS.destroy
        ? "GitHub Connect was disabled"
        : e.action === DOTCOM_CONNECTION_ACTIONS.tokenUpdated
          ? "GitHub Connect's token was renewed"
          : `\`${e.action}\` was recorded`;
  return `${what} in GHES's settings by @${e.actor} at ${hhmm(e.at)}, not through ghconnect (event \`${e.action}\` ${e.id}).`;
}

/** GHES's audit-log entry → NativeEvent; undefined for an entry missing what the bot relies on. */
export function toNativeEvent(raw: Record<string, unknown>): NativeEvent | undefined {
  const id = raw._document_id;
  const action = raw.action;
  // created_at and @timestamp are milliseconds since the epoch in GitHub's answers.
  const ms = typeof raw.created_at === "number" ? raw.created_at : raw["@timestamp"];
  if (typeof id !== "string" || typeof action !== "string" || typeof ms !== "number") return undefined;
  const account = action === DOTCOM_CONNECTION_ACTIONS.create ? connectedAccount(raw) : undefined;
  return { id, action, actor: typeof raw.actor === "string" ? raw.actor : "(unknown)", at: new Date(ms).toISOString(), account };
}

/**
 * Where a `dotcom_connection.create` entry may name the github.com account it connected to.
 *
 * What was found (researched 2026-11-29): GitHub's "Audit log events for your enterprise" page
 * lists the action with its description only (no account field), and GHES's own source test of the
 * event (DotcomConnectionTest, "triggers dotcom_connection.create after create", in GHES's
 * github/github Rails app as published in a public mirror) asserts the whole instrumented payload:
 * `{ dotcom_connection: true, actor, actor_id }`. GHES keeps the account separately (the
 * connection's `owner_type` and `owner_identifier`, from the app's installation info), not in the
 * event. So a real entry most likely names no account, and `status` says "account not named in
 * GHES's audit log". Should a version add one, these are read, first found wins: the owner's
 * identifier (the name GHES itself uses for it) and `dotcom_account`, at the top level of the
 * entry (the audit-log API flattens payloads) or under `data`. `business` and `org` are not
 * candidates: on GHES they name GHES's own enterprise and organization.
 */
const ACCOUNT_FIELDS = ["owner_identifier", "dotcom_owner_identifier", "dotcom_account"] as const;

function connectedAccount(raw: Record<string, unknown>): string | undefined {
  const data = typeof raw.data === "object" && raw.data !== null ? (raw.data as Record<string, unknown>) : {};
  for (const source of [raw, data])
    for (const field of ACCOUNT_FIELDS) {
      const value = source[field];
      if (typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(value)) return value;
    }
  return undefined;
}
