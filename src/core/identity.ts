// The ports of person linking: what core needs to prove who a Slack user is on GHES and on
// github.com (OAuth web flows, each run by @octokit/oauth-app in github/person-oauth.ts) and where
// the proven accounts and their user tokens are kept (db/links-repo.ts, sealed like credentials).
import type { SearchHit } from "./ports.js";

export type LinkSide = "ghes" | "github";

export const SIDE_NAME: Record<LinkSide, string> = { ghes: "GHES", github: "github.com" };

export interface UserTokens {
  token: string;
  refreshToken?: string;
  expiresAt?: string;
  refreshTokenExpiresAt?: string;
}

export interface PersonLink extends UserTokens {
  slackUserId: string;
  side: LinkSide;
  login: string;
  /** GHES side: the account's user id, which survives renames (absent on github.com and on links made before it was kept). */
  ghesUserId?: number;
  /** github.com side: the connection whose app issued the token. */
  connectionId: string | null;
  status: "active" | "expired";
  linkedAt: string;
}

export interface LinksStore {
  get(slackUserId: string, side: LinkSide): Promise<PersonLink | undefined>;
  all(slackUserId: string): Promise<PersonLink[]>;
  /** Who has proven this login on this side, if anyone. */
  ownerOf(side: LinkSide, login: string): Promise<string | undefined>;
  /** Whose GHES link is this GHES account (its user id survives renames), and the login it was linked as. */
  ownerOfGhesAccount(ghesUserId: number): Promise<{ slackUserId: string; login: string } | undefined>;
  /** Stores (or replaces) the person's link on that side; false when another person holds the login. */
  put(link: PersonLink): Promise<boolean>;
  /** Replaces the tokens after a refresh; false when the link is gone or was replaced meanwhile. */
  updateTokens(slackUserId: string, side: LinkSide, previousToken: string, tokens: UserTokens): Promise<boolean>;
  markExpired(slackUserId: string, side: LinkSide): Promise<void>;
  remove(slackUserId: string, side: LinkSide): Promise<boolean>;
  forConnection(connectionId: string): Promise<PersonLink[]>;
  removeForConnection(connectionId: string): Promise<number>;
  /** Active github.com links whose token expires before `before`. */
  expiringBefore(before: string): Promise<PersonLink[]>;
}

/** The connected GitHub App's OAuth client, for the github.com side. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** GitHub refused to refresh a user token (bad_refresh_token): the person must link again. */
export class RefreshRefused extends Error {
  constructor(readonly reason: string) {
    super(`GitHub refused to refresh the token (${reason})`);
    this.name = "RefreshRefused";
  }
}

/** GitHub refused an authorization code (bad_verification_code, wrong redirect…). */
export class CodeRefused extends Error {
  constructor(readonly reason: string) {
    super(`GitHub refused the authorization code (${reason})`);
    this.name = "CodeRefused";
  }
}

/** Who a GHES user token belongs to: the login, and the user id that stays when the login is renamed. */
export interface GhesAccount {
  login: string;
  id: number;
}

export interface PersonOAuthGateway {
  /** GHES_OAUTH_CLIENT_ID and _SECRET are set. */
  readonly ghesConfigured: boolean;
  ghesAuthorizeUrl(state: string, redirectUrl: string): string;
  ghesExchange(code: string, redirectUrl: string): Promise<UserTokens>;
  /** GET /user on GHES with the person's token. */
  ghesUser(token: string): Promise<GhesAccount>;
  ghesRevoke(token: string): Promise<void>;
  /** Issues and pull requests on GHES, as the person the token belongs to. */
  ghesSearch(token: string, query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]>;
  githubAuthorizeUrl(client: OAuthClient, state: string, redirectUrl: string): string;
  githubExchange(client: OAuthClient, code: string, redirectUrl: string): Promise<UserTokens>;
  /** grant_type=refresh_token; RefreshRefused when GitHub says the refresh token is no good. */
  githubRefresh(client: OAuthClient, refreshToken: string): Promise<UserTokens>;
  githubLogin(token: string): Promise<string>;
  /** DELETE /applications/{client_id}/token: the user token stops working at once. */
  githubRevoke(client: OAuthClient, token: string): Promise<void>;
}
