// The enterprise stand-ins answer in the shapes of GitHub Enterprise Cloud's OpenAPI description
// (@octokit/openapi's ghec.json): an enterprise-owned app's `GET /app` (owner: an Enterprise
// object, with a slug and no login), its installation on an organization of the enterprise, and
// "Check a token", which the credentials form uses to verify the client secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRecord } from "../../src/sandbox/github/world.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { problems, responseValidator } from "./openapi.js";

let sandbox: Sandbox;
let jwt: string;
let installationId: number;
let enterpriseInstallationId: number;
let app: AppRecord;

async function call(path: string, headers: Record<string, string>) {
  const response = await fetch(`${sandbox.urls.api}${path}`, { headers: { accept: "application/vnd.github+json", ...headers } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function checkToken(input: { clientId: string; clientSecret: string; token: string }) {
  const response = await fetch(`${sandbox.urls.api}/applications/${input.clientId}/token`, {
    method: "POST",
    headers: {
      accept: "application/vnd.github+json",
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`${input.clientId}:${input.clientSecret}`).toString("base64")}`,
    },
    body: JSON.stringify(input.token ? { access_token: input.token } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  const { urls } = sandbox;
  // The owner registers the app under the enterprise by hand, then installs it on acme.
  const registered = await fetch(`${urls.web}/enterprises/acme-corp/settings/apps/new`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
    body: new URLSearchParams({
      name: "Enterprise contract app",
      url: "https://ghes.example.com",
      callback_url: "http://127.0.0.1:9/setup",
      request_oauth_on_install: "on",
      permission_members: "read",
    }),
  });
  expect(registered.status).toBe(201);
  app = sandbox.world.apps.at(-1)!;
  const install = await fetch(`${urls.web}/apps/${app.slug}/installations?state=s`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
    body: new URLSearchParams({ target: "acme" }),
    redirect: "manual",
  });
  installationId = Number(new URL(install.headers.get("location") as string).searchParams.get("installation_id"));
  const onEnterprise = await fetch(`${urls.web}/apps/${app.slug}/installations?state=s`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
    body: new URLSearchParams({ target: "enterprise:acme-corp" }),
    redirect: "manual",
  });
  enterpriseInstallationId = Number(new URL(onEnterprise.headers.get("location") as string).searchParams.get("installation_id"));
  const { createAppAuth } = await import("@octokit/auth-app");
  jwt = (await createAppAuth({ appId: app.id, privateKey: app.pem })({ type: "app" })).token;
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe("the enterprise stand-ins match GitHub Enterprise Cloud's OpenAPI description", () => {
  it("GET /app of an enterprise-owned app: the owner is the enterprise", async () => {
    const response = await call("/app", { authorization: `Bearer ${jwt}` });
    expect(response.status).toBe(200);
    expect(problems(responseValidator("ghec", "GET", "/app", 200), response.body)).toEqual([]);
    expect(response.body.owner).toMatchObject({ slug: "acme-corp", name: "Acme Corp" });
    expect(response.body.owner).not.toHaveProperty("login");
  });

  it("GET /app/installations/{installation_id}: installed on an organization of the enterprise", async () => {
    const response = await call(`/app/installations/${installationId}`, { authorization: `Bearer ${jwt}` });
    expect(response.status).toBe(200);
    expect(problems(responseValidator("ghec", "GET", "/app/installations/{installation_id}", 200), response.body)).toEqual([]);
    expect(response.body.account).toMatchObject({ login: "acme" });
  });

  it("GET /app/installations/{installation_id}: installed on the enterprise itself", async () => {
    const response = await call(`/app/installations/${enterpriseInstallationId}`, { authorization: `Bearer ${jwt}` });
    expect(response.status).toBe(200);
    expect(problems(responseValidator("ghec", "GET", "/app/installations/{installation_id}", 200), response.body)).toEqual([]);
    expect(response.body).toMatchObject({ target_type: "Enterprise", account: { slug: "acme-corp" } });
  });

  it("POST /applications/{client_id}/token (Check a token): 404 for a token that is not the app's, with the right client id and secret", async () => {
    const response = await checkToken({
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      token: "ghu_notatoken0000000000000000000000000",
    });
    expect(response.status).toBe(404);
    expect(problems(responseValidator("ghec", "POST", "/applications/{client_id}/token", 404), response.body)).toEqual([]);
  });

  it("POST /applications/{client_id}/token (Check a token): 401 Bad credentials with a wrong client secret", async () => {
    const response = await checkToken({
      clientId: app.clientId,
      clientSecret: "0".repeat(40),
      token: "ghu_notatoken0000000000000000000000000",
    });
    expect(response.status).toBe(401);
    expect(response.body.message).toBe("Bad credentials");
  });

  it("POST /applications/{client_id}/token (Check a token): 200 Authorization for a live user token of the app, 422 without a token", async () => {
    const token = "ghu_contractcheck000000000000000000000";
    sandbox.world.userTokens.set(token, { login: "octocat", appId: app.id, expiresAt: sandbox.world.now() + 3_600_000 });
    const live = await checkToken({ clientId: app.clientId, clientSecret: app.clientSecret, token });
    expect(live.status).toBe(200);
    expect(problems(responseValidator("ghec", "POST", "/applications/{client_id}/token", 200), live.body)).toEqual([]);
    expect(live.body).toMatchObject({ token, app: { client_id: app.clientId }, user: { login: "octocat" } });
    const missing = await checkToken({ clientId: app.clientId, clientSecret: app.clientSecret, token: "" });
    expect(missing.status).toBe(422);
    expect(problems(responseValidator("ghec", "POST", "/applications/{client_id}/token", 422), missing.body)).toEqual([]);
  });

  it("an enterprise owner without the `slug` field fails the contract (the check can fail)", async () => {
    const response = await call("/app", { authorization: `Bearer ${jwt}` });
    const owner = { ...(response.body.owner as Record<string, unknown>) };
    delete owner.slug;
    expect(problems(responseValidator("ghec", "GET", "/app", 200), { ...response.body, owner }).join("\n")).toMatch(/owner/);
  });
});
