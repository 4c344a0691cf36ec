// The GitHub side's hosts and rules as GitHub documents them for github.com and GHE.com: what
// `check` reaches, which version GHES needs, and which features GitHub offers where.
import { describe, expect, it } from "vitest";
import {
  connectHosts,
  derivedGithubUrls,
  gheComSubdomain,
  githubSiteName,
  unavailableOnTarget,
  versionAtLeast,
} from "../../src/core/github-hosts.js";
import type { DotcomGateway, GhesGateway, ManageGateway } from "../../src/core/ports.js";
import { runPreflight } from "../../src/core/preflight.js";

describe("GitHub's hosts for GitHub Connect", () => {
  it("a GHE.com URL names its subdomain; github.com and look-alikes do not", () => {
    expect(gheComSubdomain("https://octocorp.ghe.com")).toBe("octocorp");
    expect(gheComSubdomain("https://Octo-Corp.GHE.com/")).toBe("octo-corp");
    expect(gheComSubdomain("https://github.com")).toBeUndefined();
    expect(gheComSubdomain("https://ghe.com")).toBeUndefined();
    expect(gheComSubdomain("https://api.octocorp.ghe.com")).toBeUndefined();
    expect(gheComSubdomain("https://octocorp.ghe.com.evil.example")).toBeUndefined();
    expect(githubSiteName("https://octocorp.ghe.com")).toBe("octocorp.ghe.com");
    expect(githubSiteName("https://github.com")).toBe("github.com");
  });

  it("derives api. and uploads. for GHE.com, and GitHub's own for github.com", () => {
    expect(derivedGithubUrls("https://octocorp.ghe.com")).toEqual({
      api: "https://api.octocorp.ghe.com",
      uploads: "https://uploads.octocorp.ghe.com",
    });
    expect(derivedGithubUrls("https://github.com")).toEqual({ api: "https://api.github.com", uploads: "https://uploads.github.com" });
  });

  it("github.com: the three hosts GitHub's Connect docs list, all required", () => {
    expect(
      connectHosts({ webUrl: "https://github.com", apiUrl: "https://api.github.com", uploadsUrl: "https://uploads.github.com" }),
    ).toEqual([
      { role: "web", url: "https://github.com", required: true },
      { role: "API", url: "https://api.github.com", required: true },
      { role: "uploads", url: "https://uploads.github.com", required: true },
    ]);
  });

  it("GHE.com: Connect's three hosts required, then auth.ghe.com, the one host name of its network page's list that is not a wildcard", () => {
    expect(
      connectHosts({
        webUrl: "https://octocorp.ghe.com",
        apiUrl: "https://api.octocorp.ghe.com",
        uploadsUrl: "https://uploads.octocorp.ghe.com",
      }),
    ).toEqual([
      { role: "web", url: "https://octocorp.ghe.com", required: true },
      { role: "API", url: "https://api.octocorp.ghe.com", required: true },
      { role: "uploads", url: "https://uploads.octocorp.ghe.com", required: true },
      { role: "auth", url: "https://auth.ghe.com", required: false },
    ]);
  });

  it("compares GHES versions by major and minor", () => {
    expect(versionAtLeast("3.11.5", "3.12")).toBe(false);
    expect(versionAtLeast("3.12.0", "3.12")).toBe(true);
    expect(versionAtLeast("3.19.2", "3.12")).toBe(true);
    expect(versionAtLeast("3.9.9", "3.12")).toBe(false);
    expect(versionAtLeast("4.0.0", "3.12")).toBe(true);
    expect(versionAtLeast("2.22.1", "3.12")).toBe(false);
  });

  it("GHE.com lacks Server Statistics and GitHub.com actions; github.com lacks nothing", () => {
    const ghe = "https://octocorp.ghe.com";
    expect(unavailableOnTarget("server-statistics", ghe)).toBe("GitHub does not offer Server Statistics on GHE.com");
    expect(unavailableOnTarget("actions", ghe)).toBe("GitHub does not offer actions from GitHub.com on GHE.com");
    for (const name of ["unified-search", "license-sync", "dependabot", "unified-contributions"]) {
      expect(unavailableOnTarget(name, ghe)).toBeUndefined();
    }
    for (const name of ["server-statistics", "actions"]) expect(unavailableOnTarget(name, "https://github.com")).toBeUndefined();
  });
});

describe("preflight on GHE.com without a proxy", () => {
  // The network as a host without a proxy sees a subdomain that does not exist: no name resolves.
  const dotcom = {
    webUrl: "https://octocrop.ghe.com",
    apiUrl: "https://api.octocrop.ghe.com",
    reach: async (url: string) => ({ host: new URL(url).host, ok: false, kind: "dns", detail: "the host name does not resolve (DNS)" }),
  } as unknown as DotcomGateway;
  const ghes = { url: "https://ghes.example.com", version: async () => "3.14.2" } as unknown as GhesGateway;
  const manage = {
    configured: true,
    licenseFacts: async () => ({ customerName: "Example", publicKey: "k", hostname: "ghes.example.com", licenseData: {}, expiresAt: null }),
  } as unknown as ManageGateway;

  it("a subdomain that does not resolve fails each Connect host by name, saying to check the subdomain", async () => {
    const { results, passed } = await runPreflight({
      ghes,
      manage,
      dotcom,
      uploadsUrl: "https://uploads.octocrop.ghe.com",
      now: () => new Date("2026-11-29T12:00:00Z"),
    });
    expect(passed).toBe(false);
    const hostLines = results.filter((r) => r.name !== "GHES" && r.name !== "License");
    expect(hostLines.map((r) => `${r.status} ${r.name}: ${r.advice}`)).toEqual([
      "fail GHE.com (octocrop.ghe.com): Check the host name, or set HTTPS_PROXY if this host reaches the internet only through a proxy. Check that octocrop.ghe.com is your enterprise's subdomain (GITHUB_URL).",
      "fail API (api.octocrop.ghe.com): Check the host name, or set HTTPS_PROXY if this host reaches the internet only through a proxy. Check that octocrop.ghe.com is your enterprise's subdomain (GITHUB_URL).",
      "fail uploads (uploads.octocrop.ghe.com): Check the host name, or set HTTPS_PROXY if this host reaches the internet only through a proxy. Check that octocrop.ghe.com is your enterprise's subdomain (GITHUB_URL).",
      "warn auth (auth.ghe.com): Check the host name, or set HTTPS_PROXY if this host reaches the internet only through a proxy.",
    ]);
  });
});
