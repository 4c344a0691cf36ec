// The connection record (SPEC §1): one active at most; disconnected ones are kept, without secrets.
import type { Kysely } from "kysely";
import type { Clock } from "../core/clock.js";
import type { Connection, NewConnectionRecord } from "../core/model.js";
import type { ConnectionsStore } from "../core/store-ports.js";
import type { ConnectionRow, Database } from "./schema.js";

export class ConnectionsRepo implements ConnectionsStore {
  constructor(
    private readonly q: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async active(): Promise<Connection | undefined> {
    const row = await this.q.selectFrom("connections").selectAll().where("active", "=", 1).executeTakeFirst();
    return row && toConnection(row);
  }

  async latest(): Promise<Connection | undefined> {
    const row = await this.q.selectFrom("connections").selectAll().orderBy("connected_at", "desc").limit(1).executeTakeFirst();
    return row && toConnection(row);
  }

  async get(id: string): Promise<Connection | undefined> {
    const row = await this.q.selectFrom("connections").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toConnection(row);
  }

  async insertActive(c: NewConnectionRecord): Promise<void> {
    const now = this.clock().toISOString();
    await this.q
      .insertInto("connections")
      .values({
        id: c.id,
        account_kind: c.accountKind,
        account_login: c.org,
        account_id: c.accountId,
        status: "active",
        app_id: c.appId,
        app_slug: c.appSlug,
        app_name: c.appName,
        app_client_id: c.appClientId,
        app_settings_url: c.appSettingsUrl,
        installation_id: c.installationId,
        installed_on: c.installedOn ? JSON.stringify(c.installedOn) : null,
        trusted_installations: c.trustedInstallations ? JSON.stringify(c.trustedInstallations) : null,
        ghes_hostname: c.facts.ghesHostname,
        ghes_version: c.facts.ghesVersion,
        license_customer_name: c.facts.licenseCustomerName,
        license_public_key: c.facts.licensePublicKey,
        license_hash: c.facts.licenseHash,
        license_expires_at: c.facts.licenseExpiresAt,
        connected_by_slack: c.connectedBy.slack,
        connected_by_ghes: c.connectedBy.ghes,
        connected_by_github: c.connectedBy.github,
        connected_at: c.connectedAt,
        token_expires_at: c.tokenExpiresAt,
        last_github_ok_at: c.lastGithubOkAt,
        operation_id: c.operationId,
        updated_at: now,
        active: 1,
      })
      .execute();
  }

  /**
   * Records the organizations an enterprise's app is installed on, only if they are still `before`:
   * of several replicas noticing the same change, one records (and audits) it.
   */
  async setInstalledOn(id: string, before: string[] | null, after: string[]): Promise<boolean> {
    let update = this.q
      .updateTable("connections")
      .set({ installed_on: JSON.stringify(after), updated_at: this.clock().toISOString() })
      .where("id", "=", id)
      .where("active", "=", 1);
    update = before === null ? update.where("installed_on", "is", null) : update.where("installed_on", "=", JSON.stringify(before));
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Moves an enterprise connection to another installation of its app, only if it still uses
   * `from`: of several replicas noticing the same loss, one re-homes (and audits) it. The held
   * token's expiry is forgotten, so the next refresh mints one for the new installation at once.
   */
  async rehome(id: string, from: number, to: number): Promise<boolean> {
    const result = await this.q
      .updateTable("connections")
      .set({ installation_id: to, token_expires_at: null, installation_lost_at: null, updated_at: this.clock().toISOString() })
      .where("id", "=", id)
      .where("active", "=", 1)
      .where("installation_id", "=", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records that the connection's installation `from` is gone with no trusted installation to move
   * to, only once (and only while it still uses `from`): true when this call recorded it.
   */
  async noteInstallationLost(id: string, from: number): Promise<boolean> {
    const result = await this.q
      .updateTable("connections")
      .set({ installation_lost_at: this.clock().toISOString(), updated_at: this.clock().toISOString() })
      .where("id", "=", id)
      .where("active", "=", 1)
      .where("installation_id", "=", from)
      .where("installation_lost_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async noteToken(id: string, expiresAt: string): Promise<void> {
    const now = this.clock().toISOString();
    await this.q
      .updateTable("connections")
      .set({ token_expires_at: expiresAt, last_github_ok_at: now, token_refresh_failed_at: null, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Marks the connection disconnected (no longer active, version bumped) only if it is still the
   * active one at `version`; true when this call did it.
   */
  async markDisconnected(id: string, version: number, bySlack: string): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.q
      .updateTable("connections")
      .set((eb) => ({
        status: "disconnected" as const,
        active: null,
        disconnected_at: now,
        disconnected_by_slack: bySlack,
        token_expires_at: null,
        updated_at: now,
        version: eb("version", "+", 1),
      }))
      .where("id", "=", id)
      .where("active", "=", 1)
      .where("version", "=", version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records a fresh look at GHES (status serves from this for five minutes). */
  async noteChecked(id: string, ghesVersionNow: string): Promise<void> {
    const now = this.clock().toISOString();
    await this.q.updateTable("connections").set({ last_checked_at: now, ghes_version_now: ghesVersionNow }).where("id", "=", id).execute();
  }

  async noteRegistrationDeleted(id: string): Promise<void> {
    await this.q.updateTable("connections").set({ registration_deleted_at: this.clock().toISOString() }).where("id", "=", id).execute();
  }

  /** Marks a refresh failure; true only the first time since the last success (notify once). */
  async noteRefreshFailure(id: string): Promise<boolean> {
    const now = this.clock().toISOString();
    const result = await this.q
      .updateTable("connections")
      .set({ token_refresh_failed_at: now })
      .where("id", "=", id)
      .where("token_refresh_failed_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

export function toConnection(row: ConnectionRow): Connection {
  return {
    id: row.id,
    accountKind: row.account_kind === "enterprise" ? "enterprise" : "organization",
    org: row.account_login,
    installedOn: row.installed_on ? (JSON.parse(row.installed_on) as string[]) : null,
    trustedInstallations: row.trusted_installations ? (JSON.parse(row.trusted_installations) as number[]) : null,
    installationLostAt: row.installation_lost_at,
    accountId: row.account_id === null ? null : Number(row.account_id),
    status: row.status,
    version: Number(row.version),
    appId: row.app_id === null ? null : Number(row.app_id),
    appSlug: row.app_slug,
    appName: row.app_name,
    appClientId: row.app_client_id,
    appSettingsUrl: row.app_settings_url,
    installationId: row.installation_id === null ? null : Number(row.installation_id),
    facts: {
      ghesHostname: row.ghes_hostname,
      ghesVersion: row.ghes_version,
      licenseCustomerName: row.license_customer_name,
      licensePublicKey: row.license_public_key,
      licenseHash: row.license_hash,
      licenseExpiresAt: row.license_expires_at,
    },
    connectedBy: { slack: row.connected_by_slack, ghes: row.connected_by_ghes, github: row.connected_by_github },
    connectedAt: row.connected_at,
    disconnectedAt: row.disconnected_at,
    disconnectedBySlack: row.disconnected_by_slack,
    registrationDeletedAt: row.registration_deleted_at,
    tokenExpiresAt: row.token_expires_at,
    tokenRefreshFailedAt: row.token_refresh_failed_at,
    lastCheckedAt: row.last_checked_at,
    lastGithubOkAt: row.last_github_ok_at,
    ghesVersionNow: row.ghes_version_now,
  };
}
