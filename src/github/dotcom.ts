// github.com and api.github.com: the manifest conversion, the OAuth code exchange, the installer's
// org membership, and everything done as the GitHub App (JWT) or its installation (token). The
// app's JWT, its installation tokens and its OAuth code exchange are @octokit/app's (`App`, over
// @octokit/auth-app and @octokit/oauth-app), on our configured Octokit (proxy, retries, throttling).
import { createPrivateKey, randomBytes } from "node:crypto";
import { App } from "@octokit/app";
import type { InstallationAccessTokenAuthentication } from "@octokit/auth-app";
import { OAuthApp } from "@octokit/oauth-app";
import { GitHubFlowRefused } from "../core/errors.js";
import type {
  AppCredentials,
  ClientSecretCheck,
  CreatedApp,
  DotcomGateway,
  EnterpriseView,
  Reach,
  RegisteredApp,
  SearchHit,
  TokenCache,
} from "../core/ports.js";
import { hostOf, statusOf, upstream } from "./errors.js";
import { type RawIssue, toHits } from "./ghes.js";
import { configuredOctokit, createOctokit, type GhOctokit, type GhOctokitInstance, SILENT_LOG } from "./octokit.js";
import { classifyNetworkError, type FetchLike } from "./transport.js";

interface EnterpriseNode {
  slug: string;
  viewerIsAdmin?: boolean;
  organizations?: { nodes?: Array<{ login: string }> };
}

export class DotcomClient implements DotcomGateway {
  private readonly anonymous: GhOctokitInstance;
  private readonly apiHost: string;
  /** The API's Octokit, as @octokit/app's `App` builds the app's own. */
  private readonly ApiOctokit: typeof GhOctokit;

  constructor(
    readonly webUrl: string,
    readonly apiUrl: string,
    private readonly fetch: FetchLike,
  ) {
    this.ApiOctokit = configuredOctokit({ baseUrl: apiUrl, fetch });
    this.anonymous = new this.ApiOctokit();
    this.apiHost = hostOf(apiUrl);
  }

  /** The GitHub App: `app.octokit` authenticates as the app (JWT) and mints installation tokens. */
  private app(app: AppCredentials): App<{ Octokit: typeof GhOctokit }> {
    return new App({ appId: app.appId, privateKey: app.privateKey, Octokit: this.ApiOctokit, log: SILENT_LOG });
  }

  /** An Octokit acting as the app (JWT), for the /app routes. */
  appOctokit(app: AppCredentials): GhOctokitInstance {
    return this.app(app).octokit;
  }

  userOctokit(token: string): GhOctokitInstance {
    return createOctokit({ baseUrl: this.apiUrl, fetch: this.fetch, auth: token });
  }

  async convertManifest(code: string): Promise<CreatedApp> {
    try {
      const { data } = await this.anonymous.request("POST /app-manifests/{code}/conversions", { code });
      const d = data as unknown as {
        id: number;
        slug: string;
        name: string;
        client_id: string;
        client_secret: string;
        webhook_secret: string | null;
        pem: string;
        html_url: string;
        owner: { login: string; id: number } | null;
      };
      return {
        id: d.id,
        slug: d.slug,
        name: d.name,
        clientId: d.client_id,
        owner: d.owner?.login ?? "",
        ownerId: d.owner?.id ?? 0,
        htmlUrl: d.html_url,
        pem: d.pem,
        clientSecret: d.client_secret,
        webhookSecret: d.webhook_secret,
      };
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 422) {
        throw new GitHubFlowRefused(
          "GitHub did not accept the app's creation code: it has expired (codes last one hour) or was already used. Nothing was stored.",
          "Run `/ghconnect enable` again to start over.",
        );
      }
      throw upstream("Converting the app manifest", this.apiHost, error);
    }
  }

  /**
   * The app's OAuth code exchange, as `App#oauth` does it (an OAuthApp of client type github-app;
   * built here without the app's key, which the exchange does not need). oauth-app takes the OAuth
   * host from its Octokit's base URL, so it is given the web URL; it reports GitHub's `error`
   * answer (a 200 with an error body) as a RequestError carrying that body.
   */
  async exchangeOAuthCode(clientId: string, clientSecret: string, code: string): Promise<string> {
    const oauth = new OAuthApp({
      clientType: "github-app",
      clientId,
      clientSecret,
      // One attempt, as GitHub's OAuth endpoint is not idempotent: a code is good for one exchange.
      Octokit: configuredOctokit({ baseUrl: this.webUrl, fetch: this.fetch, retries: 0 }),
    });
    let token: string | undefined;
    try {
      token = (await oauth.createToken({ code })).authentication.token;
    } catch (error) {
      const refused = (error as { response?: { data?: { error?: string; error_description?: string } } }).response?.data;
      if (!refused?.error) throw upstream("Exchanging the authorization code", hostOf(this.webUrl), error);
      throw codeRefused(refused.error, refused.error_description);
    }
    if (!token) throw codeRefused(undefined, undefined);
    return token;
  }

  async revokeUserToken(clientId: string, clientSecret: string, userToken: string): Promise<void> {
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
    try {
      await this.anonymous.request("DELETE /applications/{client_id}/token", {
        client_id: clientId,
        access_token: userToken,
        headers: { authorization: `basic ${basic}` },
      });
    } catch (error) {
      // 404: GitHub no longer knows the token (revoked or expired), which is what we wanted.
      if (statusOf(error) === 404) return;
      throw upstream("Revoking the installer's user token", this.apiHost, error);
    }
  }

  async currentUser(userToken: string): Promise<{ login: string }> {
    try {
      const { data } = await this.userOctokit(userToken).request("GET /user");
      return { login: data.login };
    } catch (error) {
      throw upstream("Identifying the github.com user", this.apiHost, error);
    }
  }

  async membership(userToken: string, org: string): Promise<{ state: string; role: string } | null> {
    try {
      const { data } = await this.userOctokit(userToken).request("GET /user/memberships/orgs/{org}", { org });
      return { state: data.state, role: data.role };
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 403) return null;
      throw upstream(`Checking the installer's membership of ${org}`, this.apiHost, error);
    }
  }

  /**
   * GraphQL's `enterprise(slug:)` with the person's own token: `viewerIsAdmin` is true for an
   * enterprise owner (docs.github.com/graphql/reference/objects#enterprise). GitHub answers a slug
   * that names no enterprise, or one the person cannot see, with `enterprise: null` and a
   * NOT_FOUND error in a 200 response.
   */
  async enterprise(userToken: string, slug: string): Promise<EnterpriseView> {
    const query = `query($slug: String!) { enterprise(slug: $slug) { slug viewerIsAdmin organizations(first: 100) { nodes { login } } } }`;
    try {
      const { data } = await this.userOctokit(userToken).request("POST /graphql", { query, variables: { slug } });
      const enterprise = (data as { data?: { enterprise?: EnterpriseNode | null } }).data?.enterprise;
      if (!enterprise) return { exists: false, viewerIsAdmin: false, organizations: [] };
      return {
        exists: true,
        viewerIsAdmin: enterprise.viewerIsAdmin === true,
        organizations: (enterprise.organizations?.nodes ?? []).map((n) => n.login),
      };
    } catch (error) {
      throw upstream(`Checking the installer's ownership of the enterprise ${slug}`, this.apiHost, error);
    }
  }

  /** `GET /app`: its owner is a simple user or, for an enterprise-owned app, an enterprise (OpenAPI `integration.owner`). */
  async registeredApp(app: AppCredentials): Promise<RegisteredApp | null> {
    // A key that cannot sign an RS256 JWT is refused like a key GitHub rejects, not an upstream fault.
    try {
      if (createPrivateKey(app.privateKey).asymmetricKeyType !== "rsa") return null;
    } catch {
      return null;
    }
    try {
      const { data } = await this.appOctokit(app).request("GET /app");
      const d = data as unknown as {
        id: number;
        slug?: string;
        name: string;
        client_id?: string;
        owner: { login?: string; slug?: string; type?: string } | null;
        permissions: Record<string, string | undefined>;
      };
      const owner = d.owner;
      const kind = owner?.slug && !owner.login ? "enterprise" : owner?.type === "Organization" ? "organization" : "user";
      const permissions: Record<string, string> = {};
      for (const [k, v] of Object.entries(d.permissions ?? {})) if (typeof v === "string") permissions[k] = v;
      return {
        id: d.id,
        slug: d.slug ?? "",
        name: d.name,
        clientId: d.client_id ?? "",
        owner: { kind, login: owner?.slug ?? owner?.login ?? "" },
        permissions,
      };
    } catch (error) {
      // 401: the JWT's signature does not verify with this app id's public key (or the app is gone).
      if (statusOf(error) === 401 || statusOf(error) === 404) return null;
      throw upstream("Reading the app registration with its JWT", this.apiHost, error);
    }
  }

  /**
   * GitHub's "Check a token" (`POST /applications/{client_id}/token`, Basic auth with the client
   * id and secret; docs.github.com/rest/apps/oauth-applications#check-a-token) asked about a
   * random token that cannot exist: GitHub answers 404 ("Invalid tokens will return 404 NOT
   * FOUND") once it has accepted the id and secret, and 401 when it refuses them.
   */
  async clientSecretAccepted(clientId: string, clientSecret: string): Promise<ClientSecretCheck> {
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
    try {
      await this.anonymous.request("POST /applications/{client_id}/token", {
        client_id: clientId,
        access_token: `ghu_${randomBytes(27).toString("base64url").replace(/[-_]/g, "0")}`,
        headers: { authorization: `basic ${basic}` },
      });
      // A token that happens to be live still proves the credentials.
      return { kind: "accepted" };
    } catch (error) {
      const status = statusOf(error);
      // 404 is the documented answer for accepted credentials (the token does not exist); 401 for
      // refused ones. Anything else (422 "the endpoint has been spammed", 5xx, no answer) proves
      // nothing either way, so the caller stores nothing and asks for the form again.
      if (status === 404) return { kind: "accepted" };
      if (status === 401) return { kind: "refused" };
      return { kind: "unchecked", status: status ?? null };
    }
  }

  async installations(app: AppCredentials): Promise<Array<{ id: number; account: string; onEnterprise: boolean; suspended: boolean }>> {
    try {
      const all = await this.appOctokit(app).paginate("GET /app/installations", { per_page: 100 });
      return all.map((i) => {
        const account = i.account as { login?: string; slug?: string } | null;
        // An installation on the enterprise itself has an Enterprise account (a slug, no login).
        return {
          id: i.id,
          account: account?.login ?? account?.slug ?? "",
          onEnterprise: i.target_type === "Enterprise",
          // A suspended installation is still listed, but GitHub mints it no token.
          suspended: Boolean(i.suspended_at),
        };
      });
    } catch (error) {
      throw upstream("Listing the app's installations with its JWT", this.apiHost, error);
    }
  }

  async installation(
    app: AppCredentials,
    installationId: number,
  ): Promise<{ id: number; account: string; accountId: number; onEnterprise: boolean } | null> {
    try {
      const { data } = await this.appOctokit(app).request("GET /app/installations/{installation_id}", { installation_id: installationId });
      const account = data.account as { login?: string; slug?: string; id: number } | null;
      return {
        id: data.id,
        account: account?.login ?? account?.slug ?? "",
        accountId: account?.id ?? 0,
        onEnterprise: data.target_type === "Enterprise",
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw upstream("Checking the installation with the app's JWT", this.apiHost, error);
    }
  }

  async installationToken(
    app: AppCredentials,
    installationId: number,
    cache: TokenCache,
    options: { refresh?: boolean } = {},
  ): Promise<{ token: string; expiresAt: string }> {
    if (!options.refresh) {
      const kept = await cache.get();
      if (kept) return kept;
    }
    let minted: InstallationAccessTokenAuthentication;
    try {
      // The kept token is ours to judge (the cache above), so auth-app is told to mint (its documented
      // `refresh`); it still joins a lookup already in flight for the same installation.
      minted = (await this.app(app).octokit.auth({
        type: "installation",
        installationId,
        refresh: true,
      })) as InstallationAccessTokenAuthentication;
    } catch (error) {
      throw upstream("Minting an installation token", this.apiHost, error);
    }
    const token = { token: minted.token, expiresAt: minted.expiresAt };
    await cache.set(token);
    return token;
  }

  async searchIssues(token: string, org: string | string[], query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]> {
    // Search has no enterprise qualifier: an enterprise is searched as its organizations, `org:a org:b`.
    const qualifiers = (Array.isArray(org) ? org : [org]).map((o) => `org:${o}`).join(" ");
    const { data } = await this.userOctokit(token).request("GET /search/issues", {
      q: `${query} ${qualifiers}`,
      per_page: limit,
      request: { signal, retries: 0 },
    });
    return toHits("github", data.items as unknown as RawIssue[]);
  }

  async revokeInstallationToken(token: string): Promise<void> {
    try {
      await this.userOctokit(token).request("DELETE /installation/token");
    } catch (error) {
      // 401: the token is already expired or revoked, which is what we wanted.
      if (statusOf(error) === 401) return;
      throw upstream("Revoking the installation token", this.apiHost, error);
    }
  }

  async uninstall(app: AppCredentials, installationId: number): Promise<boolean> {
    try {
      await this.appOctokit(app).request("DELETE /app/installations/{installation_id}", { installation_id: installationId });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw upstream("Uninstalling the app", this.apiHost, error);
    }
  }

  async appExists(app: AppCredentials): Promise<boolean> {
    try {
      await this.appOctokit(app).request("GET /app");
      return true;
    } catch (error) {
      if (statusOf(error) === 401 || statusOf(error) === 404) return false;
      throw upstream("Checking the app registration", this.apiHost, error);
    }
  }

  async reach(url: string, signal?: AbortSignal): Promise<Reach> {
    const host = hostOf(url);
    try {
      const response = await this.fetch(url, { method: "GET", headers: { "user-agent": "ghconnect" }, redirect: "manual", signal });
      await response.arrayBuffer().catch(() => undefined);
      return { host, ok: true, kind: "ok", detail: `HTTP ${response.status}`, date: response.headers.get("date") ?? undefined };
    } catch (error) {
      const { kind, detail } = classifyNetworkError(error);
      return { host, ok: false, kind, detail };
    }
  }
}

function codeRefused(error: string | undefined, description: string | undefined): GitHubFlowRefused {
  return new GitHubFlowRefused(
    `GitHub refused the authorization code (${error ?? "no token"}${description ? `: ${description}` : ""}). Nothing was stored.`,
    "Install the app again from the link in Slack, or run `/ghconnect enable` again.",
  );
}
