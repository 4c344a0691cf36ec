// The GitHub Enterprise Server: its REST API under /api/v3 (authenticated with GHES_TOKEN) and,
// on its own port, the Management Console API (Basic auth api_key:<password>).
import { createHash } from "node:crypto";
import { type SandboxRequest, SandboxRouter } from "../http.js";
import { issueJson } from "./api.js";
import { ghError, ok } from "./common.js";
import { ghesAuditRoutes } from "./ghes-audit.js";
import { addGhesOAuthRoutes, ghesCanSee, ghesViewer } from "./ghes-oauth.js";
import { publicUser } from "./shapes.js";
import type { GitHubWorld } from "./world.js";

export function ghesRoutes(world: GitHubWorld, urls: { ghes: string }): SandboxRouter {
  const r = new SandboxRouter();
  const api = `${urls.ghes}/api/v3`;
  const authed = (req: SandboxRequest) => req.headers.authorization?.replace(/^(token|bearer)\s+/i, "") === world.ghesToken;

  r.on("GET", "/api/v3/meta", () => ok(world, { verifiable_password_authentication: true, installed_version: world.ghesVersion }));
  r.on("GET", "/api/v3/users/:login", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    const u = world.ghesUsers.find((x) => x.login.toLowerCase() === String(req.params.login).toLowerCase());
    if (!u) return ghError(world, 404, "Not Found");
    return ok(world, publicUser(urls.ghes, api, u.login, u.id, u.site_admin));
  });
  r.on("GET", "/api/v3/enterprise/settings/license", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    const days = Math.floor((Date.parse(world.licenseExpiresAt) - world.now()) / 86_400_000);
    return ok(world, {
      seats: 500,
      seats_used: 212,
      seats_available: 288,
      kind: "standard",
      days_until_expiration: days,
      expire_at: world.licenseExpiresAt,
    });
  });
  r.on("GET", "/api/v3/enterprise/stats/all", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    return ok(world, {
      repos: { total_repos: 412, root_repos: 380, fork_repos: 32, org_repos: 350, total_pushes: 90211, total_wikis: 12 },
      hooks: { total_hooks: 40, active_hooks: 38, inactive_hooks: 2 },
      pages: { total_pages: 7 },
      orgs: { total_orgs: 18, disabled_orgs: 0, total_teams: 64, total_team_members: 530 },
      users: { total_users: 212, admin_users: 2, suspended_users: 3 },
      pulls: { total_pulls: 5120, merged_pulls: 4400, mergeable_pulls: 500, unmergeable_pulls: 220 },
      issues: { total_issues: 8800, open_issues: 1200, closed_issues: 7600 },
      milestones: { total_milestones: 90, open_milestones: 20, closed_milestones: 70 },
      gists: { total_gists: 150, private_gists: 60, public_gists: 90 },
      comments: { total_commit_comments: 800, total_gist_comments: 40, total_issue_comments: 15000, total_pull_request_comments: 21000 },
    });
  });
  r.on("GET", "/api/v3/search/issues", (req) => {
    const viewer = ghesViewer(world, req);
    if (!viewer) return ghError(world, 401, "Bad credentials");
    world.searches.push({ host: "ghes", as: viewer.kind === "user" ? viewer.login : "site-admin" });
    const q = req.url.searchParams.get("q") ?? "";
    const words = q
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w && !w.includes(":"));
    const items = world.ghesIssues
      .filter((i) => ghesCanSee(world, viewer, i))
      .filter((i) => words.every((w) => i.title.toLowerCase().includes(w)))
      .map((i) => issueJson(urls.ghes, api, i));
    return ok(world, { total_count: items.length, incomplete_results: false, search_type: "lexical", items });
  });
  ghesAuditRoutes(r, world, urls);
  return addGhesOAuthRoutes(r, world, urls);
}

/** The license as the Management Console API describes it. */
export function manageLicense(world: GitHubWorld) {
  return {
    advancedSecurityEnabled: false,
    advancedSecuritySeats: 0,
    clusterSupport: false,
    company: world.licenseCompany,
    croquetSupport: true,
    customTerms: false,
    evaluation: false,
    expireAt: world.licenseExpiresAt,
    insightsEnabled: false,
    learningLabSeats: 0,
    perpetual: false,
    referenceNumber: "SANDBOX-0001",
    seats: 500,
    sshAllowed: true,
    supportKey: "sandbox-support-key",
    unlimitedSeating: false,
  };
}

export function manageRoutes(world: GitHubWorld): SandboxRouter {
  const r = new SandboxRouter();
  const authed = (req: SandboxRequest) =>
    req.headers.authorization === `Basic ${Buffer.from(`api_key:${world.managePassword}`).toString("base64")}`;
  const publicKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----\n${createHash("sha256").update(world.licenseCompany).digest("base64")}\n-----END PGP PUBLIC KEY BLOCK-----`;
  r.on("GET", "/manage/v1/config/settings", (req) => {
    if (!authed(req)) return { status: 401, json: { message: "Unauthorized" } };
    return {
      json: {
        private_mode: true,
        public_pages: false,
        subdomain_isolation: true,
        signup_enabled: false,
        github_hostname: world.ghesHostname,
        http_proxy: world.applianceHttpProxy,
        auth_mode: "saml",
        expire_sessions: false,
        customer: { name: world.licenseCompany, email: "it@example.com", uuid: "0f6b1c9e-sandbox", public_key_data: publicKey },
        license: {
          seats: 500,
          evaluation: false,
          perpetual: false,
          unlimited_seating: false,
          ssh_allowed: true,
          cluster_support: false,
          expire_at: world.licenseExpiresAt,
        },
      },
    };
  });
  r.on("GET", "/manage/v1/config/license", (req) => {
    if (!authed(req)) return { status: 401, json: { message: "Unauthorized" } };
    return { json: manageLicense(world) };
  });
  return r;
}
