// The stand-ins answer in GitHub's documented shapes: every response ghconnect relies on is
// validated against @octokit/openapi (api.github.com and GHES 3.19).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxBrowser } from "../../src/sandbox/browser.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { problems, responseValidator } from "./openapi.js";

let sandbox: Sandbox;
let app: { id: number; slug: string; client_id: string; client_secret: string; pem: string; owner: { login: string } };
let conversion: Record<string, unknown>;
let installationId: number;
let userToken: string;
let jwt: string;
let installationToken: string;

async function call(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await fetch(`${base}${path}`, { method, headers: { accept: "application/vnd.github+json", ...headers }, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  const { urls } = sandbox;
  // Create an app and install it the way a person would, through the pages.
  const manifest = {
    name: "Contract test app",
    url: "https://ghes.example.com",
    redirect_url: "http://127.0.0.1:9/callback",
    callback_urls: ["http://127.0.0.1:9/setup"],
    request_oauth_on_install: true,
    public: false,
    default_permissions: { members: "read", issues: "read" },
  };
  const created = await fetch(`${urls.web}/organizations/acme/settings/apps/new/confirm?state=s1`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
    body: new URLSearchParams({ manifest: JSON.stringify(manifest) }).toString(),
    redirect: "manual",
  });
  const code = new URL(created.headers.get("location") as string).searchParams.get("code") as string;
  const converted = await call(urls.api, "POST", `/app-manifests/${code}/conversions`);
  conversion = converted.body;
  app = conversion as typeof app;
  const install = await fetch(`${urls.web}/apps/${app.slug}/installations?state=s2`, {
    method: "POST",
    headers: { "x-sandbox-user": "octocat" },
    redirect: "manual",
  });
  const setup = new URL(install.headers.get("location") as string);
  installationId = Number(setup.searchParams.get("installation_id"));
  const oauth = await call(
    urls.web,
    "POST",
    "/login/oauth/access_token",
    { "content-type": "application/json", accept: "application/json" },
    JSON.stringify({ client_id: app.client_id, client_secret: app.client_secret, code: setup.searchParams.get("code") }),
  );
  userToken = oauth.body.access_token;
  const { createAppAuth } = await import("@octokit/auth-app");
  const auth = createAppAuth({ appId: app.id, privateKey: app.pem });
  jwt = (await auth({ type: "app" })).token;
  installationToken = (
    await call(urls.api, "POST", `/app/installations/${installationId}/access_tokens`, { authorization: `Bearer ${jwt}` })
  ).body.token;
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe("api.github.com stand-in matches GitHub's OpenAPI description", () => {
  it("POST /app-manifests/{code}/conversions", () => {
    expect(problems(responseValidator("api.github.com", "POST", "/app-manifests/{code}/conversions", 201), conversion)).toEqual([]);
  });

  const cases: Array<[string, string, string, number, () => Record<string, string>]> = [
    ["GET", "/app", "/app", 200, () => ({ authorization: `Bearer ${jwt}` })],
    ["GET", "/app/installations/{installation_id}", "/app/installations/:id", 200, () => ({ authorization: `Bearer ${jwt}` })],
    // GET /app/installations is not checked: its description types `account` as allOf(Simple User,
    // Enterprise), which no real response satisfies; the single installation above is the same object.
    ["GET", "/user", "/user", 200, () => ({ authorization: `token ${userToken}` })],
    ["GET", "/user/memberships/orgs/{org}", "/user/memberships/orgs/acme", 200, () => ({ authorization: `token ${userToken}` })],
    ["GET", "/search/issues", "/search/issues?q=flaky", 200, () => ({ authorization: `token ${installationToken}` })],
    ["GET", "/rate_limit", "/rate_limit", 200, () => ({})],
    ["GET", "/meta", "/meta", 200, () => ({})],
    ["GET", "/user", "/user", 401, () => ({ authorization: "token not-a-token" })],
    ["GET", "/user/memberships/orgs/{org}", "/user/memberships/orgs/octo-inc", 404, () => ({ authorization: `token ${userToken}` })],
  ];
  it.each(cases)("%s %s (expecting %s)", async (method, specPath, path, _unused, headers) => {
    const realPath = path.replace(":id", String(installationId));
    const response = await call(sandbox.urls.api, method, realPath, headers());
    expect(problems(responseValidator("api.github.com", method, specPath, response.status), response.body)).toEqual([]);
    expect(response.headers.get("x-github-request-id")).toMatch(/^[0-9A-F]+:[0-9A-F]+$/);
    expect(response.headers.get("date")).toBeTruthy();
  });

  it("POST /app/installations/{id}/access_tokens", async () => {
    const response = await call(sandbox.urls.api, "POST", `/app/installations/${installationId}/access_tokens`, {
      authorization: `Bearer ${jwt}`,
    });
    expect(response.status).toBe(201);
    expect(
      problems(responseValidator("api.github.com", "POST", "/app/installations/{installation_id}/access_tokens", 201), response.body),
    ).toEqual([]);
  });

  it("a deliberately broken fixture fails the contract (the check can fail)", () => {
    const broken = { ...conversion };
    delete broken.client_id;
    delete broken.pem;
    const found = problems(responseValidator("api.github.com", "POST", "/app-manifests/{code}/conversions", 201), broken);
    expect(found.join("\n")).toMatch(/client_id/);
    expect(found.join("\n")).toMatch(/pem/);
  });
});

describe("GHES stand-in matches the GHES 3.19 OpenAPI description", () => {
  const ghes = (): Record<string, string> => ({ authorization: `token ${sandbox.world.ghesToken}` });
  const manage = (): Record<string, string> => ({
    authorization: `Basic ${Buffer.from(`api_key:${sandbox.world.managePassword}`).toString("base64")}`,
  });
  const cases: Array<[string, string, "ghes" | "manage", () => Record<string, string>]> = [
    ["/meta", "/api/v3/meta", "ghes", ghes],
    ["/users/{username}", "/api/v3/users/alice", "ghes", ghes],
    ["/enterprise/settings/license", "/api/v3/enterprise/settings/license", "ghes", ghes],
    ["/enterprise/stats/all", "/api/v3/enterprise/stats/all", "ghes", ghes],
    ["/search/issues", "/api/v3/search/issues?q=flaky", "ghes", ghes],
    ["/manage/v1/config/settings", "/manage/v1/config/settings", "manage", manage],
    ["/manage/v1/config/license", "/manage/v1/config/license", "manage", manage],
  ];
  it.each(cases)("GET %s", async (specPath, path, host, headers) => {
    const response = await call(sandbox.urls[host], "GET", path, headers());
    expect(response.status).toBe(200);
    expect(problems(responseValidator("ghes-3.19", "GET", specPath, 200), response.body)).toEqual([]);
  });
});

describe("the sandbox browser", () => {
  it("walks the install page as the signed-in owner", async () => {
    const browser = new SandboxBrowser({ submitForms: false });
    await browser.signIn(sandbox.urls.web, "octocat");
    const result = await browser.browse(`${sandbox.urls.web}/apps/${app.slug}/installations/new?state=x`);
    expect(result.text).toContain("Install Contract test app");
    expect(result.text).toContain("Signed in as octocat");
  });
});

describe("person linking: the OAuth shapes GitHub documents", () => {
  const form = { "content-type": "application/json", accept: "application/json" };
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`,
    "content-type": "application/json",
  });

  /** A fresh user token for octocat through the app's web flow (authorize → code → access_token). */
  async function authorizeOctocat() {
    const redirect = "http://127.0.0.1:9/setup";
    const authorized = await fetch(
      `${sandbox.urls.web}/login/oauth/authorize?client_id=${app.client_id}&redirect_uri=${encodeURIComponent(redirect)}&state=s3`,
      { method: "POST", headers: { "x-sandbox-user": "octocat" }, redirect: "manual" },
    );
    const code = new URL(authorized.headers.get("location") as string).searchParams.get("code");
    const body = JSON.stringify({ client_id: app.client_id, client_secret: app.client_secret, code });
    return (await call(sandbox.urls.web, "POST", "/login/oauth/access_token", form, body)).body;
  }

  it("github.com user tokens expire in 8 hours and refresh once with a 6-month refresh token; a reused one is bad_refresh_token", async () => {
    const issued = await authorizeOctocat();
    expect(Object.keys(issued).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "refresh_token_expires_in",
      "scope",
      "token_type",
    ]);
    expect([issued.expires_in, issued.refresh_token_expires_in, issued.token_type]).toEqual([28800, 15897600, "bearer"]);
    const refresh = JSON.stringify({
      client_id: app.client_id,
      client_secret: app.client_secret,
      grant_type: "refresh_token",
      refresh_token: issued.refresh_token,
    });
    const renewed = (await call(sandbox.urls.web, "POST", "/login/oauth/access_token", form, refresh)).body;
    expect(renewed.access_token).not.toBe(issued.access_token);
    expect((await call(sandbox.urls.api, "GET", "/user", { authorization: `token ${issued.access_token}` })).status).toBe(401);
    expect((await call(sandbox.urls.api, "GET", "/user", { authorization: `token ${renewed.access_token}` })).status).toBe(200);
    const reused = await call(sandbox.urls.web, "POST", "/login/oauth/access_token", form, refresh);
    expect([reused.status, reused.body.error]).toEqual([200, "bad_refresh_token"]);
    sandbox.world.advance(8 * 3_600_000);
    expect((await call(sandbox.urls.api, "GET", "/user", { authorization: `token ${renewed.access_token}` })).status).toBe(401);
    sandbox.world.advance(-8 * 3_600_000);
  });

  it("GET /search/issues as a person (user token) answers in the documented shape", async () => {
    const { access_token } = await authorizeOctocat();
    const response = await call(sandbox.urls.api, "GET", "/search/issues?q=flaky%20org%3Aacme", { authorization: `token ${access_token}` });
    expect(response.status).toBe(200);
    expect(problems(responseValidator("api.github.com", "GET", "/search/issues", 200), response.body)).toEqual([]);
  });

  it("DELETE /applications/{client_id}/token revokes a user token (204), then 404", async () => {
    const { access_token } = await authorizeOctocat();
    const path = `/applications/${app.client_id}/token`;
    const body = JSON.stringify({ access_token });
    expect((await call(sandbox.urls.api, "DELETE", path, basic(app.client_id, app.client_secret), body)).status).toBe(204);
    expect((await call(sandbox.urls.api, "GET", "/user", { authorization: `token ${access_token}` })).status).toBe(401);
    expect((await call(sandbox.urls.api, "DELETE", path, basic(app.client_id, app.client_secret), body)).status).toBe(404);
  });

  it("GHES: the OAuth app's web flow gives a token; GET /user and /search/issues answer as that person, in GHES's shapes", async () => {
    const { clientId, clientSecret } = sandbox.world.ghesOAuthApp;
    const redirect = "http://127.0.0.1:9/link";
    const authorized = await fetch(
      `${sandbox.urls.ghes}/login/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent(redirect)}&scope=repo&state=s4`,
      { method: "POST", headers: { cookie: "ghes_user=carol" }, redirect: "manual" },
    );
    const code = new URL(authorized.headers.get("location") as string).searchParams.get("code");
    const token = await call(
      sandbox.urls.ghes,
      "POST",
      "/login/oauth/access_token",
      form,
      JSON.stringify({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: redirect }),
    );
    expect([token.body.token_type, token.body.scope]).toEqual(["bearer", "repo"]);
    const auth = { authorization: `token ${token.body.access_token}` };
    const user = await call(sandbox.urls.ghes, "GET", "/api/v3/user", auth);
    expect(user.body.login).toBe("carol");
    expect(problems(responseValidator("ghes-3.19", "GET", "/user", 200), user.body)).toEqual([]);
    const search = await call(sandbox.urls.ghes, "GET", "/api/v3/search/issues?q=flaky", auth);
    expect(problems(responseValidator("ghes-3.19", "GET", "/search/issues", 200), search.body)).toEqual([]);
    // carol is not a collaborator of the private security/vault; the site admin's token sees it.
    expect(search.body.items.map((i: { number: number }) => i.number).sort()).toEqual([12, 15]);
    const asAdmin = await call(sandbox.urls.ghes, "GET", "/api/v3/search/issues?q=flaky", {
      authorization: `token ${sandbox.world.ghesToken}`,
    });
    expect(asAdmin.body.items.map((i: { number: number }) => i.number).sort()).toEqual([12, 15, 4].sort());
    const revoke = await call(
      sandbox.urls.ghes,
      "DELETE",
      `/api/v3/applications/${clientId}/token`,
      basic(clientId, clientSecret),
      JSON.stringify({ access_token: token.body.access_token }),
    );
    expect(revoke.status).toBe(204);
    expect((await call(sandbox.urls.ghes, "GET", "/api/v3/user", auth)).status).toBe(401);
  });
});
