// The GHES stand-in's enterprise audit log and the Manage API's http_proxy answer in the shapes
// GitHub documents (@octokit/openapi ghes-3.19), search with `phrase` and page by the Link header.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nativeClick } from "../../src/sandbox/github/ghes-audit.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { problems, responseValidator } from "./openapi.js";

let sandbox: Sandbox;
const ghes = () => ({ authorization: `token ${sandbox.world.ghesToken}`, accept: "application/vnd.github+json" });

beforeAll(async () => {
  sandbox = await startSandbox();
  nativeClick(sandbox.world, "connect", "alice", "acme");
  for (let i = 0; i < 4; i++) nativeClick(sandbox.world, "upload-usage-metrics", "bob");
  nativeClick(sandbox.world, "disconnect", "bob");
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("GET /enterprises/{enterprise}/audit-log", () => {
  const path = () => `${sandbox.urls.ghes}/api/v3/enterprises/${sandbox.world.enterpriseSlug}/audit-log`;

  it("answers audit-log events as ghes-3.19 describes them", async () => {
    const response = await fetch(`${path()}?phrase=${encodeURIComponent("action:dotcom_connection")}`, { headers: ghes() });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Array<Record<string, unknown>>;
    expect(problems(responseValidator("ghes-3.19", "GET", "/enterprises/{enterprise}/audit-log", 200), body)).toEqual([]);
    expect(body.map((e) => e.action)).toContain("dotcom_connection.destroy");
    for (const e of body) {
      expect(typeof e._document_id).toBe("string");
      expect(typeof e.created_at).toBe("number");
    }
  });

  it("filters by phrase: one action, or its whole category", async () => {
    const only = await fetch(`${path()}?phrase=${encodeURIComponent("action:dotcom_connection.create")}`, { headers: ghes() });
    expect(((await only.json()) as Array<{ action: string }>).map((e) => e.action)).toEqual(["dotcom_connection.create"]);
    const none = await fetch(`${path()}?phrase=${encodeURIComponent("action:repo")}`, { headers: ghes() });
    expect(await none.json()).toEqual([]);
  });

  it("pages with an `after` cursor in the Link header, newest first by default", async () => {
    const first = await fetch(`${path()}?per_page=4`, { headers: ghes() });
    const page1 = (await first.json()) as Array<{ _document_id: string; created_at: number }>;
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get("link") ?? "")?.[1] as string;
    expect(new URL(next).searchParams.get("after")).toBeTruthy();
    const second = await fetch(next, { headers: ghes() });
    const page2 = (await second.json()) as Array<{ _document_id: string }>;
    expect(second.headers.get("link")).toBeNull();
    expect(page1).toHaveLength(4);
    expect(page2).toHaveLength(2);
    expect(new Set([...page1, ...page2].map((e) => e._document_id)).size).toBe(6);
    expect(page1[0]?.created_at).toBeGreaterThanOrEqual(page1[3]?.created_at as number);
  });

  it("refuses a token without admin:enterprise (403 naming the scopes) and an unknown enterprise (404)", async () => {
    sandbox.world.ghesTokenScopes = ["site_admin"];
    const refused = await fetch(path(), { headers: ghes() });
    sandbox.world.ghesTokenScopes = ["site_admin", "admin:enterprise"];
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-accepted-oauth-scopes")).toContain("admin:enterprise");
    const unknown = await fetch(`${sandbox.urls.ghes}/api/v3/enterprises/nope/audit-log`, { headers: ghes() });
    expect(unknown.status).toBe(404);
  });
});

describe("GET /manage/v1/config/settings", () => {
  it("carries the appliance's http_proxy, as ghes-3.19 describes it", async () => {
    sandbox.world.applianceHttpProxy = "http://proxy.corp.example:3128";
    const response = await fetch(`${sandbox.urls.manage}/manage/v1/config/settings`, {
      headers: { authorization: `Basic ${Buffer.from(`api_key:${sandbox.world.managePassword}`).toString("base64")}` },
    });
    const body = (await response.json()) as { http_proxy: string };
    expect(problems(responseValidator("ghes-3.19", "GET", "/manage/v1/config/settings", 200), body)).toEqual([]);
    expect(body.http_proxy).toBe("http://proxy.corp.example:3128");
  });
});
