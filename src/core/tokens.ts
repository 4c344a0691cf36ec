// The connection's installation token: served from the encrypted cache while it has more than
// five minutes left, refreshed by a periodic job ten minutes before it expires. A failing refresh
// is posted to the admin channel once, not every minute, until a refresh succeeds again.
import type { AuditStore } from "./audit.js";
import type { Clock } from "./clock.js";
import { when } from "./enable-card.js";
import { NotConnected } from "./errors.js";
import { simpleMessage } from "./message.js";
import type { Connection } from "./model.js";
import type { DotcomGateway, Notifier, TokenCache } from "./ports.js";

export const REFRESH_AHEAD_MS = 10 * 60_000;

export interface TokenStore {
  connections: {
    active(): Promise<Connection | undefined>;
    noteToken(id: string, expiresAt: string): Promise<void>;
    noteRefreshFailure(id: string): Promise<boolean>;
  };
  credentials: { get(owner: { connectionId: string }, kind: "private_key"): Promise<{ secret: string } | undefined> };
  appendAudit: AuditStore["append"];
}

export type RefreshResult = "none" | "fresh" | "refreshed" | "failed";

export class TokenKeeper {
  constructor(
    private readonly deps: {
      store: TokenStore;
      dotcom: DotcomGateway;
      notifier: Notifier;
      clock: Clock;
      tokenCache(owner: { connectionId: string }): TokenCache;
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
    const { store, clock } = this.deps;
    const connection = await store.connections.active();
    if (!connection) return "none";
    const expires = connection.tokenExpiresAt ? Date.parse(connection.tokenExpiresAt) : 0;
    if (expires - clock().getTime() > REFRESH_AHEAD_MS) return "fresh";
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
