// GHES as a person meets it: the OAuth web flow of an OAuth app registered on the instance
// (authorize page, code exchange, token revocation), `GET /api/v3/user` with a user token, and
// who may see what (private repositories are visible to their collaborators; the site-admin
// token sees everything), so search results differ from person to person as on a real GHES.
import { randomBytes } from "node:crypto";
import type { SandboxRequest, SandboxResponse, SandboxRouter } from "../http.js";
import { ghError, githubHeaders, noContent, ok } from "./common.js";
import { publicUser } from "./shapes.js";
import type { GitHubWorld, Issue } from "./world.js";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const CODE_TTL_MS = 10 * 60_000;

/** Who a GHES API request acts as: the site admin (GHES_TOKEN), a person (their OAuth token), or nobody. */
export type GhesViewer = { kind: "site-admin" } | { kind: "user"; login: string } | undefined;

export function ghesViewer(world: GitHubWorld, req: SandboxRequest): GhesViewer {
  const token = req.headers.authorization?.replace(/^(token|bearer)\s+/i, "");
  if (!token) return undefined;
  if (token === world.ghesToken) return { kind: "site-admin" };
  const user = world.ghesUserTokens.get(token);
  return user && !user.revoked ? { kind: "user", login: user.login } : undefined;
}

export function ghesCanSee(world: GitHubWorld, viewer: Exclude<GhesViewer, undefined>, issue: Issue): boolean {
  if (viewer.kind === "site-admin" || issue.visibility !== "private") return true;
  return (world.ghesCollaborators[issue.repo] ?? []).some((l) => l.toLowerCase() === viewer.login.toLowerCase());
}

function signedIn(world: GitHubWorld, req: SandboxRequest): string {
  const cookie = /(?:^|;\s*)ghes_user=([^;]+)/.exec(req.headers.cookie ?? "");
  return cookie ? decodeURIComponent(cookie[1] as string) : world.ghesBrowserUser;
}

function page(title: string, body: string, status = 200): SandboxResponse {
  return {
    status,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · GitHub Enterprise (sandbox)</title></head><body><header>GitHub Enterprise <small>SANDBOX</small></header><main>${body}</main></body></html>`,
  };
}

function basicClient(req: SandboxRequest): { id: string; secret: string } | undefined {
  const m = /^basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return undefined;
  const [id = "", ...rest] = Buffer.from(m[1] as string, "base64")
    .toString()
    .split(":");
  return { id, secret: rest.join(":") };
}

export function addGhesOAuthRoutes(r: SandboxRouter, world: GitHubWorld, urls: { ghes: string }): SandboxRouter {
  const api = `${urls.ghes}/api/v3`;
  const app = () => world.ghesOAuthApp;

  r.on("GET", "/sandbox/login", (req) => {
    const user = req.url.searchParams.get("user") ?? "";
    if (!world.ghesUsers.some((u) => u.login === user)) return page("Sign in", `<p>No such GHES user: ${esc(user)}</p>`, 404);
    return {
      status: 200,
      headers: { "set-cookie": `ghes_user=${encodeURIComponent(user)}; Path=/; SameSite=Lax` },
      html: `signed in as ${esc(user)}`,
    };
  });

  r.on("GET", "/login/oauth/authorize", (req) => {
    if (req.url.searchParams.get("client_id") !== app().clientId || !app().clientId) return page("Not found", "<h1>404</h1>", 404);
    const login = signedIn(world, req);
    const scopes = (req.url.searchParams.get("scope") ?? "").split(/[\s,]+/).filter(Boolean);
    return page(
      "Authorize application",
      `<h1>Authorize ghconnect</h1><p>Signed in as <b>${esc(login)}</b>. ghconnect wants: ${scopes.map((s) => `<code>${esc(s)}</code>`).join(", ") || "your public profile"}.</p>
<form method="post" action="/login/oauth/authorize${esc(req.url.search)}" data-sandbox-submit="authorize"><button type="submit" id="authorize">Authorize</button></form>`,
    );
  });

  r.on("POST", "/login/oauth/authorize", (req) => {
    if (req.url.searchParams.get("client_id") !== app().clientId || !app().clientId) return page("Not found", "<h1>404</h1>", 404);
    const redirect = req.url.searchParams.get("redirect_uri") ?? "";
    // An OAuth app's redirect_uri must be on its callback URL's host; the sandbox registers the loopback host.
    if (!/^http:\/\/127\.0\.0\.1(:\d+)?\//.test(redirect))
      return page("Redirect mismatch", "<p>The redirect_uri MUST match the registered callback URL for this application.</p>", 400);
    const code = randomBytes(10).toString("hex");
    world.ghesOAuthCodes.set(code, { login: signedIn(world, req), createdAt: world.now(), used: false, redirectUri: redirect });
    const target = new URL(redirect);
    target.searchParams.set("code", code);
    const state = req.url.searchParams.get("state");
    if (state) target.searchParams.set("state", state);
    return { redirect: target.toString() };
  });

  r.on("POST", "/login/oauth/access_token", (req) => {
    const body = req.body as Record<string, string>;
    const reply = (json: Record<string, unknown>): SandboxResponse => ({ status: 200, headers: githubHeaders(world), json });
    if (!app().clientId || body.client_id !== app().clientId || body.client_secret !== app().clientSecret) {
      return reply({
        error: "incorrect_client_credentials",
        error_description: "The client_id and/or client_secret passed are incorrect.",
      });
    }
    const entry = world.ghesOAuthCodes.get(body.code ?? "");
    if (
      !entry ||
      entry.used ||
      world.now() - entry.createdAt > CODE_TTL_MS ||
      (body.redirect_uri && body.redirect_uri !== entry.redirectUri)
    ) {
      return reply({ error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
    }
    entry.used = true;
    const token = `gho_${randomBytes(18).toString("hex")}`;
    world.ghesUserTokens.set(token, { login: entry.login, scopes: ["repo"], revoked: false });
    return reply({ access_token: token, token_type: "bearer", scope: "repo" });
  });

  r.on("GET", "/api/v3/user", (req) => {
    const viewer = ghesViewer(world, req);
    if (viewer?.kind !== "user") return ghError(world, 401, "Bad credentials");
    const u = world.ghesUsers.find((x) => x.login === viewer.login);
    if (!u) return ghError(world, 401, "Bad credentials");
    return ok(world, publicUser(urls.ghes, api, u.login, u.id, u.site_admin));
  });

  r.on("DELETE", "/api/v3/applications/:clientId/token", (req) => {
    const client = basicClient(req);
    if (!client || client.id !== app().clientId || client.secret !== app().clientSecret || req.params.clientId !== app().clientId) {
      return ghError(world, 404, "Not Found");
    }
    const token = world.ghesUserTokens.get(String((req.body as Record<string, unknown>).access_token ?? ""));
    if (!token || token.revoked) return ghError(world, 404, "Not Found");
    token.revoked = true;
    return noContent(world);
  });
  return r;
}
