// The installation token cache, kept in the database (encrypted), so every replica shares one
// installation token and a restart does not mint a new one. What is kept is our own record: the
// token as the credential's secret and GitHub's expiry as its expiry (as auth-app reports them when
// it mints), never auth-app's internal cache string. A token with less than five minutes left is
// not handed out, so a fresh one is minted before the old one dies.
import type { Clock } from "../core/clock.js";
import type { CredentialOwner } from "../core/model.js";
import type { CredentialVault, InstallationToken, TokenCache } from "../core/ports.js";

export const REFRESH_MARGIN_MS = 5 * 60_000;

export class DatabaseTokenCache implements TokenCache {
  constructor(
    private readonly credentials: CredentialVault,
    private readonly owner: CredentialOwner,
    private readonly clock: Clock,
    private readonly onMint?: (expiresAt: string) => Promise<void>,
  ) {}

  async get(): Promise<InstallationToken | undefined> {
    const stored = await this.credentials.get(this.owner, "installation_token");
    // A value kept by an earlier version held auth-app's own cache string (fields joined by "|",
    // which no token contains): it is not used, and a new token replaces it.
    if (!stored?.expiresAt || stored.secret.includes("|")) return undefined;
    const left = Date.parse(stored.expiresAt) - this.clock().getTime();
    return Number.isNaN(left) || left < REFRESH_MARGIN_MS ? undefined : { token: stored.secret, expiresAt: stored.expiresAt };
  }

  async set(token: InstallationToken): Promise<void> {
    await this.credentials.put(this.owner, "installation_token", token.token, new Date(token.expiresAt));
    await this.onMint?.(token.expiresAt);
  }
}
