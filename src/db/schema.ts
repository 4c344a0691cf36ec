// The typed shape of the database, one interface per table (see migrations/).
import type { Generated, Selectable } from "kysely";

export interface AdminsTable {
  slack_user_id: string;
  ghes_login: string;
  added_by: string;
  added_at: string;
}

export interface ConnectionsTable {
  id: string;
  account_kind: string;
  /** JSON list of organization logins an enterprise's app is installed on (migration 0008). */
  installed_on: Generated<string | null>;
  /** JSON list of the installation ids an enterprise connection may re-home to (migration 0010). */
  trusted_installations: Generated<string | null>;
  /** When its installation went with no trusted one left (migration 0010). */
  installation_lost_at: Generated<string | null>;
  account_login: string;
  account_id: number | null;
  status: "active" | "disconnected";
  version: Generated<number>;
  app_id: number | null;
  app_slug: string | null;
  app_name: string | null;
  app_client_id: string | null;
  installation_id: number | null;
  ghes_hostname: string;
  ghes_version: string;
  license_customer_name: string;
  license_public_key: string;
  license_hash: string;
  license_expires_at: string | null;
  connected_by_slack: string;
  connected_by_ghes: string;
  connected_by_github: string;
  connected_at: string;
  disconnected_at: string | null;
  disconnected_by_slack: string | null;
  registration_deleted_at: string | null;
  last_checked_at: string | null;
  last_github_ok_at: string | null;
  ghes_version_now: string | null;
  updated_at: string;
  active: number | null;
  token_expires_at: string | null;
  token_refresh_failed_at: string | null;
  app_settings_url: string | null;
  operation_id: string | null;
}

export interface OperationsTable {
  id: string;
  kind: "enable" | "disable";
  account_login: string;
  /** "organization" or "enterprise" (migration 0008; older rows are organizations). */
  account_kind: Generated<string>;
  status: string;
  version: Generated<number>;
  requested_by_slack: string;
  requested_by_ghes: string | null;
  channel_id: string | null;
  response_url: string | null;
  message_ts: string | null;
  app_name: string | null;
  app_id: number | null;
  app_slug: string | null;
  app_client_id: string | null;
  app_owner: string | null;
  github_login: string | null;
  installation_id: number | null;
  addendum_version: string | null;
  addendum_accepted_at: string | null;
  preflight: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  in_flight: number | null;
  card_channel: string | null;
  card_ts: string | null;
}

export interface CredentialsTable {
  id: string;
  operation_id: string | null;
  connection_id: string | null;
  kind: string;
  ciphertext: string;
  key_id: string;
  expires_at: string | null;
  created_at: string;
}

export interface ApprovalsTable {
  id: string;
  action: string;
  connection_id: string;
  connection_version: number;
  account_login: string;
  policy: string;
  status: string;
  requested_by_slack: string;
  /** The requester's GHES login when they asked (migration 0009); null on older rows. */
  requested_by_ghes: string | null;
  /** The requester's proven GHES user id when they asked (migration 0011); null on older rows or with no GHES link. */
  requested_by_ghes_id: number | null;
  requested_at: string;
  expires_at: string;
  decided_by_slack: string | null;
  decided_at: string | null;
  channel_id: string | null;
  message_ts: string | null;
  error: string | null;
  updated_at: string;
}

export interface OauthStatesTable {
  state_hash: string;
  operation_id: string;
  purpose: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface RefusalTalliesTable {
  key: string;
  action: string;
  target: string | null;
  details: string;
  pending: number;
  first_pending_at: string | null;
  audited_at: string | null;
  audited_count: number | null;
  audited_since: string | null;
}

export interface FeaturesTable {
  name: string;
  enabled: number;
  changed_by_slack: string;
  changed_at: string;
}

export interface AuditLogTable {
  seq: number;
  id: string;
  at: string;
  actor_slack: string | null;
  actor_ghes: string | null;
  actor_github: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface SlackEventsTable {
  delivery_id: string;
  kind: string;
  received_at: string;
}

export interface JobsTable {
  name: string;
  locked_by: string | null;
  locked_until: string | null;
  last_run_at: string | null;
}

export interface StatsSnapshotsTable {
  id: string;
  taken_at: string;
  data: string;
}

/** One row (slot "active"): the key every credential is written with, and since when. */
export interface ActiveEncryptionKeyTable {
  slot: string;
  key_id: string;
  since: string;
}

/** Every key id that was ever active; retired_at is set when a rotation replaced it. */
export interface EncryptionKeysTable {
  key_id: string;
  activated_at: string;
  retired_at: string | null;
}

/** A person's proven GHES or github.com account (see links-repo). */
export interface PersonLinksTable {
  id: string;
  slack_user_id: string;
  side: string;
  login: string;
  login_key: string;
  connection_id: string | null;
  token_ciphertext: string;
  refresh_ciphertext: string | null;
  key_id: string;
  expires_at: string | null;
  refresh_expires_at: string | null;
  /** GHES side: the account's user id, which survives renames (migration 0011); null on github.com and older rows. */
  ghes_user_id: number | null;
  status: string;
  linked_at: string;
  updated_at: string;
}

export interface Database {
  admins: AdminsTable;
  connections: ConnectionsTable;
  operations: OperationsTable;
  credentials: CredentialsTable;
  approvals: ApprovalsTable;
  oauth_states: OauthStatesTable;
  refusal_tallies: RefusalTalliesTable;
  features: FeaturesTable;
  audit_log: AuditLogTable;
  slack_events: SlackEventsTable;
  jobs: JobsTable;
  stats_snapshots: StatsSnapshotsTable;
  active_encryption_key: ActiveEncryptionKeyTable;
  encryption_keys: EncryptionKeysTable;
  person_links: PersonLinksTable;
}

export type AuditRow = Selectable<AuditLogTable>;
export type ConnectionRow = Selectable<ConnectionsTable>;
export type OperationRow = Selectable<OperationsTable>;
export type ApprovalRow = Selectable<ApprovalsTable>;
