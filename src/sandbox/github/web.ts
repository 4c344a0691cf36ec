// github.com, the pages a person's browser sees: the manifest form target, the install page, the
// org's app settings page (where the registration is deleted; GitHub has no API for that), and
// the OAuth token exchange. The signed-in user comes from the `sandbox_user` cookie (or the
// x-sandbox-user header), else the world's browserUser.
import { randomBytes } from "node:crypto";
import { type SandboxRequest, type SandboxResponse, SandboxRouter } from "../http.js";
import { githubHeaders } from "./common.js";
import type { AppRecord, GitHubWorld } from "./world.js";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, status = 200): SandboxResponse {
  return {
    status,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · GitHub (sandbox)</title>
<style>body{font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}
header{background:#24292f;color:#fff;padding:12px 24px;font-weight:600}header small{color:#f0b72f;margin-left:8px}
main{max-width:640px;margin:32px auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:24px}
button{background:#1f883d;color:#fff;border:0;border-radius:6px;padding:8px 16px;font-size:15px;cursor:pointer}
button.danger{background:#cf222e}.error{color:#cf222e}code{background:#eff1f3;padding:2px 4px;border-radius:4px}</style></head>
<body><header>GitHub <small>SANDBOX</small></header><main>${body}</main></body></html>`,
  };
}

function signedInUser(world: GitHubWorld, req: SandboxRequest): string {
  const header = req.headers["x-sandbox-user"];
  if (typeof header === "string" && header) return header;
  const cookie = /(?:^|;\s*)sandbox_user=([^;]+)/.exec(req.headers.cookie ?? "");
  return cookie ? decodeURIComponent(cookie[1] as string) : world.browserUser;
}

function withQuery(base: string, params: Record<string, string | number | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  return url.toString();
}

/** GitHub App user-to-server tokens as GitHub issues them: 8 hours, with a 6-month refresh token. */
export const USER_TOKEN_TTL_S = 8 * 3600;
export const REFRESH_TOKEN_TTL_S = 15_897_600;

function issueUserToken(world: GitHubWorld, app: AppRecord, login: string): Record<string, unknown> {
  const token = `ghu_${randomBytes(18).toString("hex")}`;
  const refresh = `ghr_${randomBytes(30).toString("hex")}`;
  world.userTokens.set(token, { login, appId: app.id, expiresAt: world.now() + USER_TOKEN_TTL_S * 1000 });
  world.refreshTokens.set(refresh, { login, appId: app.id, expiresAt: world.now() + REFRESH_TOKEN_TTL_S * 1000, used: false });
  return {
    access_token: token,
    expires_in: USER_TOKEN_TTL_S,
    refresh_token: refresh,
    refresh_token_expires_in: REFRESH_TOKEN_TTL_S,
    token_type: "bearer",
    scope: "",
  };
}

/** grant_type=refresh_token: a refresh token works once; the old access token stops working. */
function refreshUserToken(world: GitHubWorld, app: AppRecord, refreshToken: string): Record<string, unknown> {
  const entry = world.refreshTokens.get(refreshToken);
  if (!entry || entry.used || entry.appId !== app.id || entry.expiresAt <= world.now()) {
    return {
      error: "bad_refresh_token",
      error_description: "The refresh token passed is incorrect or expired.",
      error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors#bad-refresh-token",
    };
  }
  entry.used = true;
  for (const [token, t] of world.userTokens)
    if (t.login === entry.login && t.appId === app.id) world.userTokens.set(token, { ...t, revoked: true });
  return issueUserToken(world, app, entry.login);
}

/** GitHub's manifest rules, with GitHub's wording. */
export function manifestProblems(world: GitHubWorld, manifest: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const name = typeof manifest.name === "string" ? manifest.name.trim() : "";
  if (!name) problems.push("Name can't be blank");
  else if (name.length > 34) problems.push("Name is too long (maximum is 34 characters)");
  else if (world.apps.some((a) => !a.deleted && a.name.toLowerCase() === name.toLowerCase())) problems.push("Name has already been taken");
  if (typeof manifest.url !== "string" || !/^https?:\/\//.test(manifest.url)) problems.push("Url can't be blank");
  const hook = manifest.hook_attributes as { url?: unknown; active?: unknown } | undefined;
  if (hook && hook.active !== false && (typeof hook.url !== "string" || !/^https?:\/\//.test(hook.url)))
    problems.push("Hook url can't be blank");
  if (!hook || hook.active === false) {
    if (Array.isArray(manifest.default_events) && manifest.default_events.length > 0)
      problems.push("Default events are not supported when the webhook is inactive");
  }
  const callbacks = manifest.callback_urls;
  if (callbacks !== undefined && (!Array.isArray(callbacks) || callbacks.length > 10 || callbacks.some((u) => typeof u !== "string"))) {
    problems.push("Callback urls must be a list of at most 10 URLs");
  }
  if (manifest.request_oauth_on_install === true && (!Array.isArray(callbacks) || callbacks.length === 0)) {
    problems.push("Callback url can't be blank when requesting user authorization on install");
  }
  if (manifest.redirect_url !== undefined && (typeof manifest.redirect_url !== "string" || !/^https?:\/\//.test(manifest.redirect_url))) {
    problems.push("Redirect url is not a valid URL");
  }
  return problems;
}

export function webRoutes(world: GitHubWorld, urls: { web: string }): SandboxRouter {
  const r = new SandboxRouter();
  const notFound = () => page("Page not found", "<h1>404</h1><p>This is not the web page you are looking for.</p>", 404);

  r.on("GET", "/sandbox/login", (req) => {
    const user = req.url.searchParams.get("user") ?? "";
    if (!world.user(user)) return page("Sign in", `<p class="error">No such sandbox user: ${esc(user)}</p>`, 404);
    return {
      status: 200,
      headers: { "set-cookie": `sandbox_user=${encodeURIComponent(user)}; Path=/; SameSite=Lax` },
      html: `signed in as ${esc(user)}`,
    };
  });

  r.on("POST", "/organizations/:org/settings/apps/new", (req) => {
    const org = world.org(req.params.org as string);
    const login = signedInUser(world, req);
    const user = world.user(login);
    if (!org || !user || user.memberships[org.login] !== "admin") return notFound();
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(String(req.body.manifest ?? "")) as Record<string, unknown>;
    } catch {
      return page("Invalid manifest", `<h1 class="error">Invalid GitHub App configuration</h1><p>The manifest is not valid JSON.</p>`, 422);
    }
    const problems = manifestProblems(world, manifest);
    if (problems.length > 0) {
      return page(
        "Invalid manifest",
        `<h1 class="error">Invalid GitHub App configuration</h1><ul>${problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul>`,
        422,
      );
    }
    const state = req.url.searchParams.get("state") ?? "";
    const perms = Object.entries((manifest.default_permissions as Record<string, string>) ?? {})
      .map(([k, v]) => `<li><code>${esc(k)}</code>: ${esc(v)}</li>`)
      .join("");
    return page(
      "Create GitHub App",
      `<h1>Create GitHub App for ${esc(org.login)}</h1>
<p>Signed in as <b>${esc(login)}</b>. <b>${esc(String(manifest.name))}</b> will be owned by <b>${esc(org.login)}</b> and request:</p><ul><li><code>metadata</code>: read</li>${perms}</ul>
<form method="post" action="/organizations/${esc(org.login)}/settings/apps/new/confirm?state=${encodeURIComponent(state)}" data-sandbox-submit="create">
<input type="hidden" name="manifest" value="${esc(JSON.stringify(manifest))}">
<button type="submit" id="create-app">Create GitHub App for ${esc(org.login)}</button></form>`,
    );
  });

  r.on("POST", "/organizations/:org/settings/apps/new/confirm", (req) => {
    const requested = world.org(req.params.org as string);
    const login = signedInUser(world, req);
    const user = world.user(login);
    if (!requested || !user || user.memberships[requested.login] !== "admin") return notFound();
    const manifest = JSON.parse(String(req.body.manifest ?? "{}")) as Record<string, unknown>;
    const problems = manifestProblems(world, manifest);
    if (problems.length > 0) return page("Invalid manifest", `<p class="error">${esc(problems.join("; "))}</p>`, 422);
    const owner = (world.nextAppOwnerOverride && world.org(world.nextAppOwnerOverride)) || requested;
    world.nextAppOwnerOverride = undefined;
    const app = world.createApp(owner, manifest, login);
    const code = randomBytes(16).toString("hex");
    world.manifestCodes.set(code, { appId: app.id, createdAt: world.now(), used: false });
    const redirect = typeof manifest.redirect_url === "string" ? manifest.redirect_url : `${urls.web}/settings/apps/${app.slug}`;
    return { redirect: withQuery(redirect, { code, state: req.url.searchParams.get("state") ?? undefined }) };
  });

  // An enterprise owner registers an app under the enterprise by hand (no manifests for
  // enterprise-owned apps): the form's fields, then the app's page with its credentials.
  r.on("GET", "/enterprises/:slug/settings/apps/new", (req) => {
    const enterprise = world.enterprise(req.params.slug as string);
    const login = signedInUser(world, req);
    if (!enterprise?.owners.includes(login)) return notFound();
    return page(
      "Register new GitHub App",
      `<h1>Register new GitHub App</h1><p>Owned by the enterprise <b>${esc(enterprise.name)}</b>. Signed in as <b>${esc(login)}</b>.</p>
<form method="post" action="/enterprises/${esc(enterprise.slug)}/settings/apps/new"><input name="name"><input name="url"><input name="callback_url"><input name="callback_url_2">
<input name="request_oauth_on_install"><input name="permission_metadata"><input name="permission_issues"><input name="permission_pull_requests"><input name="permission_members"></form>`,
    );
  });

  r.on("POST", "/enterprises/:slug/settings/apps/new", (req) => {
    const enterprise = world.enterprise(req.params.slug as string);
    const login = signedInUser(world, req);
    if (!enterprise?.owners.includes(login)) return notFound();
    const body = req.body as Record<string, string>;
    const permissions: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (k.startsWith("permission_") && v) permissions[k.slice("permission_".length)] = v;
    const manifest: Record<string, unknown> = {
      name: body.name,
      url: body.url,
      callback_urls: [body.callback_url, body.callback_url_2].filter((u): u is string => !!u),
      request_oauth_on_install: body.request_oauth_on_install === "on",
      hook_attributes: { url: "", active: false },
      default_permissions: permissions,
    };
    const problems = manifestProblems(world, manifest);
    if (problems.length > 0) return page("Invalid app", `<p class="error">${esc(problems.join("; "))}</p>`, 422);
    const app = world.createApp({ login: enterprise.slug, id: enterprise.id }, manifest, login);
    app.enterprise = enterprise.slug;
    // GitHub shows the secret and offers the key once each ("Generate a new client secret", "Generate a private key").
    return page(
      app.name,
      `<h1>${esc(app.name)}</h1><dl><dt>App ID</dt><dd data-app-id="${app.id}">${app.id}</dd><dt>Client ID</dt><dd data-client-id="${esc(app.clientId)}">${esc(app.clientId)}</dd>
<dt>Client secret</dt><dd data-client-secret="${esc(app.clientSecret)}">${esc(app.clientSecret)}</dd></dl><pre data-private-key>${esc(app.pem)}</pre>`,
      201,
    );
  });

  r.on("GET", "/enterprises/:slug/settings/apps/:app", (req) => {
    const enterprise = world.enterprise(req.params.slug as string);
    const app = world.app((a) => a.slug === req.params.app && a.enterprise === enterprise?.slug);
    if (!enterprise || !app || !enterprise.owners.includes(signedInUser(world, req))) return notFound();
    return page(
      `${app.name} settings`,
      `<h1>${esc(app.name)}</h1><p>Owned by the enterprise ${esc(enterprise.name)} · App ID ${app.id}</p>`,
    );
  });

  /** Where the signed-in user may install the app: its owner, or for an enterprise-owned app the enterprise's organizations they own. */
  const installTargets = (app: AppRecord, login: string): string[] => {
    const user = world.user(login);
    if (!user) return [];
    if (!app.enterprise) return user.memberships[app.owner.login] === "admin" ? [app.owner.login] : [];
    const enterprise = world.enterprise(app.enterprise);
    if (!enterprise) return [];
    // Enterprise-owned apps install on organizations of the enterprise, and an enterprise owner may
    // also install one on the enterprise itself (the target named `enterprise:SLUG` here).
    const orgs = enterprise.orgs.filter((o) => enterprise.owners.includes(login) || user.memberships[o] === "admin");
    return enterprise.owners.includes(login) ? [...orgs, `enterprise:${enterprise.slug}`] : orgs;
  };

  const installable = (req: SandboxRequest): { app: AppRecord; login: string; targets: string[] } | SandboxResponse => {
    const app = world.app((a) => a.slug === req.params.slug);
    const login = signedInUser(world, req);
    // A private app can only be installed on the account that owns it (or, owned by an enterprise, its organizations).
    const targets = app ? installTargets(app, login) : [];
    if (!app || targets.length === 0) return notFound();
    return { app, login, targets };
  };

  r.on("GET", "/apps/:slug/installations/new", (req) => {
    const found = installable(req);
    if (!("app" in found)) return found;
    const { app, login, targets } = found;
    const state = req.url.searchParams.get("state") ?? "";
    const perms = Object.entries(app.permissions)
      .map(([k, v]) => `<li>${esc(v)} access to <code>${esc(k)}</code></li>`)
      .join("");
    const target = req.url.searchParams.get("target") ?? targets[0] ?? "";
    return page(
      `Install ${app.name}`,
      `<h1>Install ${esc(app.name)}</h1><p>Signed in as <b>${esc(login)}</b>. Install on <b>${esc(target)}</b>, for all repositories, with:</p><ul>${perms}</ul>
<form method="post" action="/apps/${esc(app.slug)}/installations?state=${encodeURIComponent(state)}" data-sandbox-submit="install">
<input type="hidden" name="target" value="${esc(target)}">
<button type="submit" id="install">Install &amp; Authorize</button></form>`,
    );
  });

  r.on("POST", "/apps/:slug/installations", (req) => {
    const found = installable(req);
    if (!("app" in found)) return found;
    const { app, login, targets } = found;
    const target = String(req.body.target ?? targets[0]);
    const onEnterprise = target.startsWith("enterprise:");
    const enterprise = onEnterprise ? world.enterprise(target.slice("enterprise:".length)) : undefined;
    const account = !targets.includes(target) ? undefined : enterprise ? { login: enterprise.slug, id: enterprise.id } : world.org(target);
    if (!account) return notFound();
    let installation = world.installations.find((i) => i.appId === app.id && !i.deleted && i.account.login === account.login);
    if (!installation) {
      installation = {
        id: world.id() * 10 + 7,
        appId: app.id,
        account,
        onEnterprise,
        createdAt: new Date(world.now()).toISOString(),
        deleted: false,
        suspended: false,
      };
      world.installations.push(installation);
    }
    const state = req.url.searchParams.get("state") ?? undefined;
    const callbacks = (app.manifest.callback_urls as string[] | undefined) ?? [];
    if (app.manifest.request_oauth_on_install === true && callbacks[0]) {
      // With "request user authorization during installation", GitHub ignores the setup URL and
      // sends the installer through OAuth to the first callback URL.
      const code = randomBytes(10).toString("hex");
      world.oauthCodes.set(code, { appId: app.id, login, createdAt: world.now(), used: false });
      return { redirect: withQuery(callbacks[0], { code, installation_id: installation.id, setup_action: "install", state }) };
    }
    if (typeof app.manifest.setup_url === "string") {
      return { redirect: withQuery(app.manifest.setup_url, { installation_id: installation.id, setup_action: "install", state }) };
    }
    return page("Installed", `<p>${esc(app.name)} is installed on ${esc(app.owner.login)}.</p>`);
  });

  r.on("GET", "/organizations/:org/settings/apps/:slug", (req) => {
    const org = world.org(req.params.org as string);
    const app = world.app((a) => a.slug === req.params.slug && a.owner.login === org?.login);
    const user = world.user(signedInUser(world, req));
    if (!org || !app || !user || user.memberships[org.login] !== "admin") return notFound();
    return page(
      `${app.name} settings`,
      `<h1>${esc(app.name)}</h1><p>Owned by ${esc(org.login)} · App ID ${app.id} · Client ID <code>${esc(app.clientId)}</code></p>
<h2>Danger zone</h2><form method="post" action="/organizations/${esc(org.login)}/settings/apps/${esc(app.slug)}/delete" data-sandbox-submit="delete">
<button class="danger" type="submit" id="delete-app">Delete GitHub App</button></form>`,
    );
  });

  r.on("POST", "/organizations/:org/settings/apps/:slug/delete", (req) => {
    const org = world.org(req.params.org as string);
    const app = world.app((a) => a.slug === req.params.slug && a.owner.login === org?.login);
    const user = world.user(signedInUser(world, req));
    if (!org || !app || !user || user.memberships[org.login] !== "admin") return notFound();
    app.deleted = true;
    for (const i of world.installations) if (i.appId === app.id) i.deleted = true;
    return page("Deleted", `<p>${esc(app.name)} has been deleted.</p>`);
  });

  // The user-to-server OAuth web flow: any signed-in user can authorize an app for themselves.
  r.on("GET", "/login/oauth/authorize", (req) => {
    const app = world.app((a) => a.clientId === req.url.searchParams.get("client_id"));
    if (!app) return notFound();
    const login = signedInUser(world, req);
    const q = req.url.search;
    return page(
      `Authorize ${app.name}`,
      `<h1>Authorize ${esc(app.name)}</h1><p>Signed in as <b>${esc(login)}</b>. ${esc(app.name)} by ${esc(app.owner.login)} wants to verify your GitHub identity.</p>
<form method="post" action="/login/oauth/authorize${esc(q)}" data-sandbox-submit="authorize"><button type="submit" id="authorize">Authorize ${esc(app.name)}</button></form>`,
    );
  });
  r.on("POST", "/login/oauth/authorize", (req) => {
    const app = world.app((a) => a.clientId === req.url.searchParams.get("client_id"));
    if (!app) return notFound();
    const callbacks = (app.manifest.callback_urls as string[] | undefined) ?? [];
    const redirect = req.url.searchParams.get("redirect_uri") ?? callbacks[0];
    if (!redirect || !callbacks.includes(redirect))
      return page("Redirect mismatch", '<p class="error">The redirect_uri is not one of the app\'s callback URLs.</p>', 400);
    const code = randomBytes(10).toString("hex");
    world.oauthCodes.set(code, { appId: app.id, login: signedInUser(world, req), createdAt: world.now(), used: false });
    return { redirect: withQuery(redirect, { code, state: req.url.searchParams.get("state") ?? undefined }) };
  });

  r.on("POST", "/login/oauth/access_token", (req) => {
    const body = req.body as Record<string, string>;
    const app = world.apps.find((a) => a.clientId === body.client_id);
    const reply = (json: Record<string, unknown>): SandboxResponse => ({ status: 200, headers: githubHeaders(world), json });
    if (!app || app.clientSecret !== body.client_secret) {
      return reply({
        error: "incorrect_client_credentials",
        error_description: "The client_id and/or client_secret passed are incorrect.",
        error_uri: "https://docs.github.com",
      });
    }
    if (body.grant_type === "refresh_token") return reply(refreshUserToken(world, app, body.refresh_token ?? ""));
    const entry = world.oauthCodes.get(body.code ?? "");
    if (!entry || entry.used || entry.appId !== app.id || world.now() - entry.createdAt > 10 * 60_000) {
      return reply({
        error: "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
        error_uri: "https://docs.github.com",
      });
    }
    entry.used = true;
    return reply(issueUserToken(world, app, entry.login));
  });

  return r;
}
