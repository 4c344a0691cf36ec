// @octokit/auth-app's token cache, kept in the database (encrypted), so every replica shares one
// installation token and a restart does not mint a new one. auth-app trusts whatever the cache
// returns, so expiry is enforced here: a token with less than five minutes left is not returned,
// which makes auth-app mint a fresh one before the old one dies.
import type { Clock } from "../core/clock.js";
import type { CredentialOwner } from "../core/model.js";
import type { CredentialVault, TokenCache } from "../core/ports.js";

export const REFRESH_MARGIN_MS = 5 * 60_000;

export class DatabaseTokenCache implements TokenCache {
  constructor(
    private readonly credentials: CredentialVault,
    private readonly owner: CredentialOwner,
    private readonly clock: Clock,
    private readonly onMint?: (expiresAt: string) => Promise<void>,
  ) {}

  async get(_key: string): Promise<string | undefined> {
    const stored = await this.credentials.get(this.owner, "installation_token");
    if (!stored) return undefined;
    const expiresAt = stored.secret.split("|")[2] ?? "";
    const left = Date.parse(expiresAt) - this.clock().getTime();
    return Number.isNaN(left) || left < REFRESH_MARGIN_MS ? undefined : stored.secret;
  }

  async set(_key: string, value: string): Promise<void> {
    const expiresAt = value.split("|")[2] ?? "";
    const parsed = Date.parse(expiresAt);
    await this.credentials.put(this.owner, "installation_token", value, Number.isNaN(parsed) ? undefined : new Date(parsed));
    await this.onMint?.(expiresAt);
  }
}
