// api.github.com: the manifest conversion, GitHub App (JWT) endpoints, installation tokens, the
// user-to-server endpoints, search, meta and rate limit — the parts ghconnect uses.
import { createHash, randomBytes } from "node:crypto";
import { type SandboxRequest, type SandboxResponse, SandboxRouter } from "../http.js";
import { ghError, noContent, ok } from "./common.js";
import { verifyAppJwt } from "./jwt.js";
import { publicUser, simpleUser } from "./shapes.js";
import type { AppRecord, GitHubWorld, Installation } from "./world.js";

const HOUR = 3_600_000;

export function apiRoutes(world: GitHubWorld, urls: { web: string; api: string }): SandboxRouter {
  const r = new SandboxRouter();

  const appJson = (app: AppRecord, secrets: boolean) => ({
    id: app.id,
    slug: app.slug,
    node_id: `A_${app.id}`,
    client_id: app.clientId,
    // GitHub's `integration.owner` is a simple user, or an enterprise for an enterprise-owned app.
    owner: app.enterprise ? enterpriseJson(app.enterprise) : simpleUser(urls.web, urls.api, app.owner.login, app.owner.id, "Organization"),
    name: app.name,
    description: String(app.manifest.description ?? ""),
    external_url: String(app.manifest.url ?? ""),
    html_url: `${urls.web}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: app.events,
    installations_count: world.installations.filter((i) => i.appId === app.id && !i.deleted).length,
    ...(secrets ? { client_secret: app.clientSecret, webhook_secret: app.webhookSecret, pem: app.pem } : {}),
  });
  const enterpriseJson = (slug: string) => {
    const e = world.enterprise(slug);
    return {
      id: e?.id ?? 0,
      node_id: `E_${e?.id ?? 0}`,
      name: e?.name ?? slug,
      slug,
      description: null,
      website_url: null,
      html_url: `${urls.web}/enterprises/${slug}`,
      avatar_url: `${urls.web}/avatars/enterprises/${slug}`,
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
    };
  };
  const orgJson = (org: { login: string; id: number }) => ({
    login: org.login,
    id: org.id,
    node_id: `O_${org.id}`,
    url: `${urls.api}/orgs/${org.login}`,
    repos_url: `${urls.api}/orgs/${org.login}/repos`,
    events_url: `${urls.api}/orgs/${org.login}/events`,
    hooks_url: `${urls.api}/orgs/${org.login}/hooks`,
    issues_url: `${urls.api}/orgs/${org.login}/issues`,
    members_url: `${urls.api}/orgs/${org.login}/members{/member}`,
    public_members_url: `${urls.api}/orgs/${org.login}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/${org.login}`,
    description: null,
    type: "Organization",
  });
  const installationJson = (i: Installation, app: AppRecord) => ({
    id: i.id,
    account: i.onEnterprise
      ? enterpriseJson(i.account.login)
      : simpleUser(urls.web, urls.api, i.account.login, i.account.id, "Organization"),
    repository_selection: "all",
    access_tokens_url: `${urls.api}/app/installations/${i.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/organizations/${i.account.login}/settings/installations/${i.id}`,
    app_id: app.id,
    app_slug: app.slug,
    target_id: i.account.id,
    target_type: i.onEnterprise ? "Enterprise" : "Organization",
    permissions: app.permissions,
    events: app.events,
    created_at: i.createdAt,
    updated_at: i.createdAt,
    single_file_name: null,
    suspended_at: i.suspended ? i.createdAt : null,
    suspended_by: null,
  });

  const withApp = (req: SandboxRequest, fn: (app: AppRecord) => SandboxResponse): SandboxResponse => {
    const result = verifyAppJwt(world, req.headers.authorization);
    return result.ok ? fn(result.app) : ghError(world, 401, result.message);
  };
  const installationToken = (req: SandboxRequest) => {
    const token = req.headers.authorization?.replace(/^(token|bearer)\s+/i, "");
    const found = world.tokens.find((t) => t.token === token);
    if (!found || found.revoked || found.expiresAt <= world.now()) return undefined;
    const installation = world.installations.find((i) => i.id === found.installationId && !i.deleted);
    return installation ? { token: found, installation } : undefined;
  };
  const userToken = (req: SandboxRequest) => {
    const token = req.headers.authorization?.replace(/^(token|bearer)\s+/i, "");
    const found = token ? world.userTokens.get(token) : undefined;
    return found && !found.revoked && found.expiresAt > world.now() ? found : undefined;
  };

  r.on("POST", "/app-manifests/:code/conversions", (req) => {
    const entry = world.manifestCodes.get(req.params.code as string);
    if (!entry || entry.used || world.now() - entry.createdAt > HOUR) return ghError(world, 404, "Not Found");
    entry.used = true;
    const app = world.apps.find((a) => a.id === entry.appId);
    if (!app || app.deleted) return ghError(world, 404, "Not Found");
    return ok(world, appJson(app, true), 201);
  });

  r.on("GET", "/app", (req) => withApp(req, (app) => ok(world, appJson(app, false))));
  r.on("GET", "/app/installations", (req) =>
    withApp(req, (app) =>
      ok(
        world,
        world.installations.filter((i) => i.appId === app.id && !i.deleted).map((i) => installationJson(i, app)),
      ),
    ),
  );
  r.on("GET", "/app/installations/:id", (req) =>
    withApp(req, (app) => {
      const i = world.installations.find((x) => x.id === Number(req.params.id) && x.appId === app.id && !x.deleted);
      return i ? ok(world, installationJson(i, app)) : ghError(world, 404, "Not Found");
    }),
  );
  r.on("POST", "/app/installations/:id/access_tokens", (req) =>
    withApp(req, (app) => {
      const i = world.installations.find((x) => x.id === Number(req.params.id) && x.appId === app.id && !x.deleted);
      if (!i) return ghError(world, 404, "Not Found");
      if (i.suspended) return ghError(world, 403, "This installation has been suspended");
      const token = {
        token: `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`,
        installationId: i.id,
        expiresAt: world.now() + HOUR,
        revoked: false,
      };
      world.tokens.push(token);
      return ok(
        world,
        {
          token: token.token,
          expires_at: new Date(token.expiresAt).toISOString(),
          permissions: app.permissions,
          repository_selection: "all",
        },
        201,
      );
    }),
  );
  r.on("DELETE", "/app/installations/:id", (req) =>
    withApp(req, (app) => {
      const i = world.installations.find((x) => x.id === Number(req.params.id) && x.appId === app.id && !x.deleted);
      if (!i) return ghError(world, 404, "Not Found");
      i.deleted = true;
      for (const t of world.tokens) if (t.installationId === i.id) t.revoked = true;
      return noContent(world);
    }),
  );
  r.on("DELETE", "/installation/token", (req) => {
    const found = installationToken(req);
    if (!found) return ghError(world, 401, "Bad credentials");
    found.token.revoked = true;
    return noContent(world);
  });

  r.on("GET", "/user", (req) => {
    const user = userToken(req);
    const u = user && world.user(user.login);
    if (!u) return ghError(world, 401, "Bad credentials");
    return ok(world, publicUser(urls.web, urls.api, u.login, u.id));
  });
  r.on("GET", "/user/memberships/orgs/:org", (req) => {
    const user = userToken(req);
    const u = user && world.user(user.login);
    if (!u) return ghError(world, 401, "Bad credentials");
    const org = world.org(req.params.org as string);
    const role = org && u.memberships[org.login];
    if (!org || !role) return ghError(world, 404, "Not Found");
    return ok(world, {
      url: `${urls.api}/orgs/${org.login}/memberships/${u.login}`,
      state: "active",
      role,
      organization_url: `${urls.api}/orgs/${org.login}`,
      organization: orgJson(org),
      user: simpleUser(urls.web, urls.api, u.login, u.id),
    });
  });

  // The app whose client id and secret are the request's Basic credentials, if they are right.
  const basicApp = (req: SandboxRequest): AppRecord | undefined => {
    const m = /^basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
    if (!m) return undefined;
    const [id = "", ...rest] = Buffer.from(m[1] as string, "base64")
      .toString()
      .split(":");
    return world.apps.find((a) => a.clientId === id && a.clientSecret === rest.join(":") && !a.deleted);
  };

  // POST /applications/{client_id}/token ("Check a token"), Basic auth client_id:client_secret.
  // Wrong credentials are 401 Bad credentials; right ones with a token that is not a live token of
  // the app are 404 ("Invalid tokens will return 404 NOT FOUND"); a live one is 200 Authorization.
  r.on("POST", "/applications/:clientId/token", (req) => {
    const app = basicApp(req);
    if (!app) return ghError(world, 401, "Bad credentials");
    if (req.params.clientId !== app.clientId) return ghError(world, 404, "Not Found");
    const token = (req.body as Record<string, unknown>).access_token;
    if (typeof token !== "string" || token === "") return ghError(world, 422, 'Invalid request.\n\n"access_token" wasn\'t supplied.');
    const found = world.userTokens.get(token);
    if (!found || found.appId !== app.id || found.revoked || found.expiresAt <= world.now()) return ghError(world, 404, "Not Found");
    const person = world.user(found.login);
    const created = new Date(found.expiresAt - 8 * HOUR).toISOString();
    return ok(world, {
      id: found.expiresAt,
      url: `${urls.api}/authorizations/${found.expiresAt}`,
      scopes: [],
      token,
      token_last_eight: token.slice(-8),
      hashed_token: createHash("sha256").update(token).digest("hex"),
      app: { client_id: app.clientId, name: app.name, url: `${urls.web}/apps/${app.slug}` },
      note: null,
      note_url: null,
      created_at: created,
      updated_at: created,
      fingerprint: null,
      expires_at: new Date(found.expiresAt).toISOString(),
      user: person ? simpleUser(urls.web, urls.api, person.login, person.id) : null,
    });
  });

  // DELETE /applications/{client_id}/token, with the app's client id and secret (Basic auth).
  r.on("DELETE", "/applications/:clientId/token", (req) => {
    const app = basicApp(req);
    if (!app || req.params.clientId !== app.clientId) return ghError(world, 404, "Not Found");
    const token = String((req.body as Record<string, unknown>).access_token ?? "");
    const found = world.userTokens.get(token);
    if (!found || found.appId !== app.id || found.revoked) return ghError(world, 404, "Not Found");
    world.userTokens.set(token, { ...found, revoked: true });
    return noContent(world);
  });

  // GraphQL, the one query ghconnect asks: `enterprise(slug:) { slug viewerIsAdmin organizations { nodes { login } } }`.
  // Like GitHub, a slug the viewer cannot see is `enterprise: null` with a NOT_FOUND error, in a 200.
  r.on("POST", "/graphql", (req) => {
    const user = userToken(req);
    if (!user) return ghError(world, 401, "This endpoint requires you to be authenticated.");
    const query = String(req.body.query ?? "");
    const variables = (req.body.variables ?? {}) as { slug?: string };
    if (!/enterprise\(slug:\s*\$slug\)/.test(query) || typeof variables.slug !== "string")
      return ok(world, { errors: [{ message: "The sandbox answers only the enterprise(slug:) query." }] });
    const e = world.enterprise(variables.slug);
    if (!e?.members.includes(user.login)) {
      return ok(world, {
        data: { enterprise: null },
        errors: [
          {
            type: "NOT_FOUND",
            path: ["enterprise"],
            locations: [{ line: 1, column: 30 }],
            message: `Could not resolve to a Enterprise with the slug of '${variables.slug}'.`,
          },
        ],
      });
    }
    return ok(world, {
      data: {
        enterprise: {
          slug: e.slug,
          viewerIsAdmin: e.owners.includes(user.login),
          organizations: { nodes: e.orgs.map((login) => ({ login })) },
        },
      },
    });
  });

  r.on("GET", "/search/issues", (req) => {
    const person = userToken(req);
    const viewer = person && world.user(person.login);
    const found = installationToken(req);
    if (!found && !viewer) return ghError(world, 401, "Bad credentials");
    world.searches.push({ host: "github", as: found ? "installation" : (viewer?.login ?? "") });
    const q = req.url.searchParams.get("q") ?? "";
    if (!q.trim()) return ghError(world, 422, "Validation Failed");
    // Like GitHub, an `org:` qualifier naming no organization (an enterprise slug, say) is a 422.
    for (const m of q.matchAll(/(?:^|\s)org:(\S+)/g))
      if (!world.org(m[1] as string))
        return ghError(
          world,
          422,
          "Validation Failed: The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.",
        );
    const words = q
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w && !w.includes(":"));
    // A person sees public repositories and the private ones of orgs they belong to; an
    // installation sees its account's. The `org:` qualifier narrows either.
    const org = /(?:^|\s)org:(\S+)/i.exec(q)?.[1]?.toLowerCase();
    const items = world.dotcomIssues
      .filter((i) =>
        found ? i.org === found.installation.account.login : i.visibility !== "private" || Boolean(viewer?.memberships[i.org]),
      )
      .filter((i) => !org || i.org.toLowerCase() === org)
      .filter((i) => words.every((w) => i.title.toLowerCase().includes(w)))
      .map((i) => issueJson(urls.web, urls.api, i));
    return ok(world, { total_count: items.length, incomplete_results: false, search_type: "lexical", items });
  });

  r.on("GET", "/meta", () => ok(world, { verifiable_password_authentication: false, domains: { website: ["github.com"] } }));
  r.on("GET", "/rate_limit", () => {
    const reset = Math.floor(world.now() / 1000) + 3600;
    const bucket = { limit: 5000, used: 1, remaining: 4999, reset };
    return ok(world, { resources: { core: bucket, search: { ...bucket, limit: 30, remaining: 29 } }, rate: bucket });
  });
  r.on("GET", "/orgs/:org", (req) => {
    const org = world.org(req.params.org as string);
    return org ? ok(world, orgJson(org)) : ghError(world, 404, "Not Found");
  });
  return r;
}

export function issueJson(
  web: string,
  api: string,
  i: { repo: string; number: number; title: string; state: string; pull: boolean; updatedAt: string; score: number },
) {
  return {
    id: i.number * 1000 + i.repo.length,
    node_id: `I_${i.number}`,
    number: i.number,
    title: i.title,
    state: i.state,
    html_url: `${web}/${i.repo}/${i.pull ? "pull" : "issues"}/${i.number}`,
    url: `${api}/repos/${i.repo}/issues/${i.number}`,
    repository_url: `${api}/repos/${i.repo}`,
    labels_url: `${api}/repos/${i.repo}/issues/${i.number}/labels{/name}`,
    comments_url: `${api}/repos/${i.repo}/issues/${i.number}/comments`,
    events_url: `${api}/repos/${i.repo}/issues/${i.number}/events`,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    labels: [],
    comments: 0,
    created_at: i.updatedAt,
    updated_at: i.updatedAt,
    closed_at: i.state === "closed" ? i.updatedAt : null,
    author_association: "MEMBER",
    user: null,
    body: "",
    score: i.score,
    ...(i.pull
      ? {
          pull_request: {
            url: `${api}/repos/${i.repo}/pulls/${i.number}`,
            html_url: `${web}/${i.repo}/pull/${i.number}`,
            diff_url: null,
            patch_url: null,
          },
        }
      : {}),
  };
}
