// The connection's installation token: served from the encrypted cache while it has more than
// five minutes left, refreshed by a periodic job ten minutes before it expires. The refresh is
// forced (the cached token is still good then), so a failing GitHub leaves the whole ten minutes
// of per-minute retries before the token dies. Each minute's refresh is claimed in the database
// (keyed on the connection), so however many replicas tick in that minute, one asks GitHub for a
// token and one `token.refreshed` is written; a failed attempt leaves the next minute's claim free,
// so the retries go on. A failing refresh is posted to the admin channel
// once, not every minute, until a refresh succeeds again. `token.refreshed` is audited only when
// GitHub minted a new token.
import type { AuditStore } from "./audit.js";
import type { Clock } from "./clock.js";
import { when } from "./enable-card.js";
import { NotConnected } from "./errors.js";
import { simpleMessage } from "./message.js";
import type { Connection } from "./model.js";
import type { DotcomGateway, Notifier, TokenCache } from "./ports.js";

export const REFRESH_AHEAD_MS = 10 * 60_000;
/** The refresh's period: one attempt per connection per minute across replicas. */
export const REFRESH_PERIOD_MS = 60_000;

export interface TokenStore {
  connections: {
    active(): Promise<Connection | undefined>;
    noteToken(id: string, expiresAt: string): Promise<void>;
    noteRefreshFailure(id: string): Promise<boolean>;
  };
  jobs: { claimSlot(name: string, periodMs: number, by: string): Promise<boolean> };
  credentials: { get(owner: { connectionId: string }, kind: "private_key"): Promise<{ secret: string } | undefined> };
  appendAudit: AuditStore["append"];
}

/**
 * none: not connected; fresh: not due; refreshed: GitHub minted a new token; unchanged: the token
 * held already came back (nothing minted, tried again next minute); failed: GitHub or the
 * credentials failed; taken: due, but this minute's refresh was already claimed (by another
 * replica, or an earlier call in the same minute).
 */
export type RefreshResult = "none" | "fresh" | "refreshed" | "unchanged" | "failed" | "taken";

export class TokenKeeper {
  constructor(
    private readonly deps: {
      store: TokenStore;
      dotcom: DotcomGateway;
      notifier: Notifier;
      clock: Clock;
      /** This process's name in the jobs table (who claimed a minute's refresh). */
      replica: string;
      tokenCache(owner: { connectionId: string }): TokenCache;
      /** Told when GitHub minted a new token, or a due refresh failed (the refresh metric). */
      onRefresh?(outcome: "refreshed" | "failed"): void;
    },
  ) {}

  private async appCredentials(connection: Connection) {
    const key = await this.deps.store.credentials.get({ connectionId: connection.id }, "private_key");
    if (!key || connection.appId === null || connection.installationId === null) {
      throw new NotConnected(`The credentials of the connection to ${connection.org} are missing.`, "Disconnect and connect again.");
    }
    return { appId: connection.appId, privateKey: key.secret, installationId: connection.installationId };
  }

  /** A usable installation token for the active connection (no GitHub call while cached). */
  async current(): Promise<{ token: string; expiresAt: string; connection: Connection }> {
    const connection = await this.deps.store.connections.active();
    if (!connection)
      throw new NotConnected("This server is not connected to GitHub.", "An admin can connect it with `/ghconnect enable ORG`.");
    const { appId, privateKey, installationId } = await this.appCredentials(connection);
    const token = await this.deps.dotcom.installationToken(
      { appId, privateKey },
      installationId,
      this.deps.tokenCache({ connectionId: connection.id }),
    );
    return { ...token, connection };
  }

  /** The periodic job: refreshes a token that expires within ten minutes. */
  async refreshIfDue(): Promise<RefreshResult> {
    const result = await this.refreshDue();
    if (result === "refreshed" || result === "failed") this.deps.onRefresh?.(result);
    return result;
  }

  private async refreshDue(): Promise<RefreshResult> {
    const { store, clock } = this.deps;
    const connection = await store.connections.active();
    if (!connection) return "none";
    const expires = connection.tokenExpiresAt ? Date.parse(connection.tokenExpiresAt) : 0;
    if (expires - clock().getTime() > REFRESH_AHEAD_MS) return "fresh";
    if (!(await store.jobs.claimSlot(`token-refresh:${connection.id}`, REFRESH_PERIOD_MS, this.deps.replica))) return "taken";
    try {
      const { appId, privateKey, installationId } = await this.appCredentials(connection);
      const token = await this.deps.dotcom.installationToken(
        { appId, privateKey },
        installationId,
        this.deps.tokenCache({ connectionId: connection.id }),
        {
          refresh: true,
        },
      );
      // A new token has a new expiry (an hour from its minting). The same expiry means auth-app
      // handed back the token already held (it joins a lookup already in flight for the
      // installation), so nothing was refreshed and the next minute tries again.
      if (token.expiresAt === connection.tokenExpiresAt) return "unchanged";
      await store.connections.noteToken(connection.id, token.expiresAt);
      await store.appendAudit({
        actor: { slack: null },
        action: "token.refreshed",
        target: connection.org,
        outcome: "ok",
        details: { connection: connection.id, expires_at: token.expiresAt },
      });
      return "refreshed";
    } catch (error) {
      if (await store.connections.noteRefreshFailure(connection.id)) {
        const reason = (error as Error).message;
        await store.appendAudit({
          actor: { slack: null },
          action: "token.refresh_failed",
          target: connection.org,
          outcome: "failed",
          details: { connection: connection.id, reason },
        });
        await this.deps.notifier.post(
          this.deps.notifier.adminChannel,
          simpleMessage(
            `⚠️ Could not refresh the installation token for ${connection.org}: ${reason}`,
            `The current token expires at ${connection.tokenExpiresAt ? when(connection.tokenExpiresAt) : "an unknown time"}. ghconnect keeps retrying every minute and says so here when it works again; \`/ghconnect check\` shows what is reachable.`,
          ),
        );
      }
      return "failed";
    }
  }
}
