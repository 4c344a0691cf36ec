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
