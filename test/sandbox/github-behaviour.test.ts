// The stand-ins behave like GitHub where ghconnect's correctness depends on it.
import { createSign, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRecord } from "../../src/sandbox/github/world.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";

let sandbox: Sandbox;
let app: AppRecord;
let installationId: number;

function jwt(payload: Record<string, unknown>, privateKey: string): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${enc({ alg: "RS256", typ: "JWT" })}.${enc(payload)}`;
  return `${body}.${createSign("RSA-SHA256").update(body).sign(privateKey).toString("base64url")}`;
}

async function mintToken(appJwt: string): Promise<{ token: string; expires_at: string }> {
  const response = await api(`/app/installations/${installationId}/access_tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${appJwt}` },
  });
  return (await response.json()) as { token: string; expires_at: string };
}

const now = () => Math.floor(sandbox.world.now() / 1000);
const api = (path: string, init: RequestInit = {}) => fetch(`${sandbox.urls.api}${path}`, init);

beforeAll(async () => {
  sandbox = await startSandbox();
  app = sandbox.world.createApp(sandbox.world.org("acme")!, { name: "Behaviour app", url: "https://x" }, "octocat");
  installationId = 4242;
  sandbox.world.installations.push({
    id: installationId,
    appId: app.id,
    account: app.owner,
    createdAt: new Date().toISOString(),
    deleted: false,
    suspended: false,
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("GitHub App JWT authentication", () => {
  it("accepts a JWT signed with the app's key", async () => {
    const token = jwt({ iat: now() - 30, exp: now() + 540, iss: String(app.id) }, app.pem);
    expect((await api("/app", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it("rejects a JWT signed with another key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const response = await api("/app", {
      headers: { authorization: `Bearer ${jwt({ iat: now(), exp: now() + 500, iss: app.id }, other)}` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      message: "A JSON web token could not be decoded",
      documentation_url: expect.any(String),
    });
  });

  it("rejects an expired JWT and one that lives longer than 10 minutes", async () => {
    const expired = jwt({ iat: now() - 700, exp: now() - 100, iss: app.id }, app.pem);
    const tooLong = jwt({ iat: now(), exp: now() + 3600, iss: app.id }, app.pem);
    const r1 = await api("/app", { headers: { authorization: `Bearer ${expired}` } });
    const r2 = await api("/app", { headers: { authorization: `Bearer ${tooLong}` } });
    expect(r1.status).toBe(401);
    expect(((await r1.json()) as { message: string }).message).toMatch(/Expiration time/);
    expect(r2.status).toBe(401);
    expect(((await r2.json()) as { message: string }).message).toMatch(/too far in the future/);
  });
});

describe("installation tokens", () => {
  it("expire after one hour on the sandbox clock", async () => {
    const token = jwt({ iat: now() - 30, exp: now() + 540, iss: app.id }, app.pem);
    const minted = await mintToken(token);
    expect(Date.parse(minted.expires_at) - sandbox.world.now()).toBeGreaterThan(59 * 60_000);
    const search = () => api("/search/issues?q=flaky", { headers: { authorization: `token ${minted.token}` } });
    expect((await search()).status).toBe(200);
    sandbox.world.advance(61 * 60_000);
    try {
      expect((await search()).status).toBe(401);
    } finally {
      sandbox.world.advance(-61 * 60_000);
    }
  });

  it("scope search to the installation's organization", async () => {
    const token = jwt({ iat: now() - 30, exp: now() + 540, iss: app.id }, app.pem);
    const minted = await mintToken(token);
    const result = (await (await api("/search/issues?q=flaky", { headers: { authorization: `token ${minted.token}` } })).json()) as {
      items: Array<{ html_url: string }>;
      total_count: number;
    };
    expect(result.items.map((i: { html_url: string }) => i.html_url).join(" ")).not.toContain("octo-inc");
    expect(result.total_count).toBe(2);
  });
});

describe("manifest codes", () => {
  it("are single use and expire after an hour", async () => {
    const create = async () => {
      const r = await fetch(`${sandbox.urls.web}/organizations/acme/settings/apps/new/confirm`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
        body: new URLSearchParams({
          manifest: JSON.stringify({
            name: `Code test ${Math.random()}`.slice(0, 30),
            url: "https://x",
            redirect_url: "http://127.0.0.1:9/cb",
          }),
        }),
        redirect: "manual",
      });
      return new URL(r.headers.get("location") as string).searchParams.get("code") as string;
    };
    const code = await create();
    expect((await api(`/app-manifests/${code}/conversions`, { method: "POST" })).status).toBe(201);
    expect((await api(`/app-manifests/${code}/conversions`, { method: "POST" })).status).toBe(404);
    const late = await create();
    sandbox.world.advance(61 * 60_000);
    try {
      expect((await api(`/app-manifests/${late}/conversions`, { method: "POST" })).status).toBe(404);
    } finally {
      sandbox.world.advance(-61 * 60_000);
    }
  });

  it("a manifest over GitHub's rules is refused with GitHub's wording", async () => {
    const r = await fetch(`${sandbox.urls.web}/organizations/acme/settings/apps/new`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
      body: new URLSearchParams({ manifest: JSON.stringify({ name: "x".repeat(35), hook_attributes: { url: "" } }) }),
    });
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toContain("Name is too long (maximum is 34 characters)");
    expect(html).toContain("Url can&#39;t be blank");
    expect(html).toContain("Hook url can&#39;t be blank");
  });

  it("only an owner of the organization can create its app (others get GitHub's 404)", async () => {
    const r = await fetch(`${sandbox.urls.web}/organizations/acme/settings/apps/new`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "monalisa" },
      body: new URLSearchParams({ manifest: JSON.stringify({ name: "Not mine", url: "https://x" }) }),
    });
    expect(r.status).toBe(404);
  });
});

describe("fault injection", () => {
  it("fires the requested number of times, then stops", async () => {
    sandbox.world.inject({ host: "api", status: 502, pathIncludes: "/meta", times: 2 });
    expect((await api("/meta")).status).toBe(502);
    expect((await api("/meta")).status).toBe(502);
    expect((await api("/meta")).status).toBe(200);
  });

  it("429 carries retry-after and GitHub's rate-limit headers", async () => {
    sandbox.world.inject({ host: "api", status: 429, retryAfter: 7, pathIncludes: "/meta" });
    const r = await api("/meta");
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("7");
    expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("slows a response down by the requested delay", async () => {
    sandbox.world.inject({ host: "ghes", delayMs: 300, pathIncludes: "/meta" });
    const started = Date.now();
    await fetch(`${sandbox.urls.ghes}/api/v3/meta`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("can be driven over HTTP by another process", async () => {
    await fetch(`${sandbox.urls.web}/_sandbox/fault`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ host: "ghes", status: 503, pathIncludes: "/meta" }),
    });
    expect((await fetch(`${sandbox.urls.ghes}/api/v3/meta`)).status).toBe(503);
    expect((await fetch(`${sandbox.urls.ghes}/api/v3/meta`)).status).toBe(200);
  });
});

describe("the Management Console API", () => {
  it("needs Basic auth api_key:<password>", async () => {
    expect((await fetch(`${sandbox.urls.manage}/manage/v1/config/license`)).status).toBe(401);
    const wrong = Buffer.from("api_key:nope").toString("base64");
    expect((await fetch(`${sandbox.urls.manage}/manage/v1/config/license`, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(
      401,
    );
  });
});
