// The person-linking OAuth flows, run by @octokit/oauth-app rather than by hand: on GHES an OAuth
// app (GHES_OAUTH_CLIENT_ID/SECRET, scope `repo` so search sees the person's private repositories),
// on github.com the connected GitHub App's own user authorization (expiring user-to-server tokens,
// refreshed with the refresh token). Also searches GHES with the person's own token.
import { OAuthApp } from "@octokit/oauth-app";
import { Octokit } from "@octokit/rest";
import {
  CodeRefused,
  type GhesAccount,
  type OAuthClient,
  type PersonOAuthGateway,
  RefreshRefused,
  type UserTokens,
} from "../core/identity.js";
import type { SearchHit } from "../core/ports.js";
import { hostOf, upstream } from "./errors.js";
import { type RawIssue, toHits } from "./ghes.js";
import { createOctokit } from "./octokit.js";
import type { FetchLike } from "./transport.js";

/** The least GHES scope with which search returns the person's private repositories' issues. */
export const GHES_LINK_SCOPES = ["repo"];

interface OAuthErrorShape {
  status?: number;
  response?: { data?: { error?: string; error_description?: string } };
  message?: string;
}

/** The `error` GitHub's OAuth endpoint answered with (200 + error body), if that is what failed. */
function oauthError(error: unknown): string | undefined {
  const e = error as OAuthErrorShape;
  return e?.response?.data?.error;
}

export class PersonOAuthClient implements PersonOAuthGateway {
  private readonly ghesApp?: OAuthApp;

  constructor(
    private readonly options: {
      ghesUrl: string;
      ghes?: { clientId: string; clientSecret: string };
      githubUrl: string;
      githubApiUrl: string;
      fetch: FetchLike;
    },
  ) {
    if (options.ghes) {
      this.ghesApp = new OAuthApp({
        clientType: "oauth-app",
        clientId: options.ghes.clientId,
        clientSecret: options.ghes.clientSecret,
        defaultScopes: GHES_LINK_SCOPES,
        Octokit: this.octokitClass(`${options.ghesUrl.replace(/\/+$/, "")}/api/v3`),
      });
    }
  }

  get ghesConfigured(): boolean {
    return this.ghesApp !== undefined;
  }

  // oauth-app derives the OAuth host from the request's baseUrl (github.com for api.github.com,
  // the host for GHES's /api/v3); the web flow is given the web URL, the REST calls the API URL.
  private octokitClass(baseUrl: string) {
    // Octokit's default log writes failed requests to the console; ghconnect logs through pino, and
    // the callers turn failures into sentences.
    const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    return Octokit.defaults({ baseUrl, userAgent: "ghconnect", request: { fetch: this.options.fetch }, log: silent });
  }

  private githubApp(client: OAuthClient, base: "web" | "api"): OAuthApp<{ clientType: "github-app" }> {
    return new OAuthApp({
      clientType: "github-app",
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      Octokit: this.octokitClass(base === "web" ? this.options.githubUrl : this.options.githubApiUrl),
    });
  }

  private ghes(): OAuthApp {
    if (!this.ghesApp) throw new Error("GHES_OAUTH_CLIENT_ID is not set");
    return this.ghesApp;
  }

  ghesAuthorizeUrl(state: string, redirectUrl: string): string {
    return this.ghes().getWebFlowAuthorizationUrl({ state, redirectUrl }).url;
  }

  async ghesExchange(code: string, redirectUrl: string): Promise<UserTokens> {
    try {
      const { authentication } = await this.ghes().createToken({ code, redirectUrl });
      return { token: authentication.token };
    } catch (error) {
      const refused = oauthError(error);
      if (refused) throw new CodeRefused(refused);
      throw upstream("Exchanging the GHES sign-in code", hostOf(this.options.ghesUrl), error);
    }
  }

  async ghesUser(token: string): Promise<GhesAccount> {
    try {
      const { data } = await this.userOctokit(`${this.options.ghesUrl.replace(/\/+$/, "")}/api/v3`, token).request("GET /user");
      return { login: data.login, id: Number(data.id) };
    } catch (error) {
      throw upstream("Identifying the GHES user", hostOf(this.options.ghesUrl), error);
    }
  }

  async ghesRevoke(token: string): Promise<void> {
    try {
      await this.ghes().deleteToken({ token });
    } catch (error) {
      if ((error as OAuthErrorShape).status === 404) return;
      throw upstream("Revoking the GHES token", hostOf(this.options.ghesUrl), error);
    }
  }

  async ghesSearch(token: string, query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]> {
    const octokit = this.userOctokit(`${this.options.ghesUrl.replace(/\/+$/, "")}/api/v3`, token);
    const { data } = await octokit.request("GET /search/issues", { q: query, per_page: limit, request: { signal, retries: 0 } });
    return toHits("ghes", data.items as unknown as RawIssue[]);
  }

  githubAuthorizeUrl(client: OAuthClient, state: string, redirectUrl: string): string {
    return this.githubApp(client, "web").getWebFlowAuthorizationUrl({ state, redirectUrl }).url;
  }

  async githubExchange(client: OAuthClient, code: string, redirectUrl: string): Promise<UserTokens> {
    try {
      const { authentication } = await this.githubApp(client, "web").createToken({ code, redirectUrl });
      return tokensOf(authentication);
    } catch (error) {
      const refused = oauthError(error);
      if (refused) throw new CodeRefused(refused);
      throw upstream("Exchanging the github.com sign-in code", hostOf(this.options.githubUrl), error);
    }
  }

  async githubRefresh(client: OAuthClient, refreshToken: string): Promise<UserTokens> {
    try {
      const { authentication } = await this.githubApp(client, "web").refreshToken({ refreshToken });
      return tokensOf(authentication);
    } catch (error) {
      const refused = oauthError(error);
      if (refused) throw new RefreshRefused(refused);
      throw upstream("Refreshing a github.com user token", hostOf(this.options.githubUrl), error);
    }
  }

  async githubLogin(token: string): Promise<string> {
    try {
      const { data } = await this.userOctokit(this.options.githubApiUrl, token).request("GET /user");
      return data.login;
    } catch (error) {
      throw upstream("Identifying the github.com user", hostOf(this.options.githubApiUrl), error);
    }
  }

  async githubRevoke(client: OAuthClient, token: string): Promise<void> {
    try {
      await this.githubApp(client, "api").deleteToken({ token });
    } catch (error) {
      // Already revoked or expired: the token does not work either way.
      if ((error as OAuthErrorShape).status === 404) return;
      throw upstream("Revoking a github.com user token", hostOf(this.options.githubApiUrl), error);
    }
  }

  private userOctokit(baseUrl: string, token: string) {
    return createOctokit({ baseUrl, fetch: this.options.fetch, auth: token });
  }
}

function tokensOf(a: { token: string; refreshToken?: string; expiresAt?: string; refreshTokenExpiresAt?: string }): UserTokens {
  return {
    token: a.token,
    ...(a.refreshToken ? { refreshToken: a.refreshToken } : {}),
    ...(a.expiresAt ? { expiresAt: a.expiresAt } : {}),
    ...(a.refreshTokenExpiresAt ? { refreshTokenExpiresAt: a.refreshTokenExpiresAt } : {}),
  };
}
