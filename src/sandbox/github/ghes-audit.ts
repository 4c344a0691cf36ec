// GHES's own GitHub Connect, as the stand-in plays it: an enterprise audit log
// (GET /api/v3/enterprises/{enterprise}/audit-log, with the `phrase` search and Link-header cursor
// pagination GitHub documents) and the clicks an admin makes in GHES's settings page
// (/enterprises/SLUG/settings/dotcom_connection), which are what emit `dotcom_connection.*` events.
// GitHub offers no API to make those clicks; the sandbox exposes them as `nativeClick` (used by the
// demo's `:ghes-settings` verb and the tests) so the bot can be seen watching them.
import { randomBytes } from "node:crypto";
import type { SandboxRequest, SandboxRouter } from "../http.js";
import { ghError, githubHeaders } from "./common.js";
import type { GitHubWorld } from "./world.js";

/** One entry of the enterprise audit log, shaped like GitHub's `audit-log-event`. */
export interface GhesAuditEvent {
  "@timestamp": number;
  _document_id: string;
  action: string;
  actor: string;
  actor_id: number;
  business: string;
  business_id: number;
  created_at: number;
  operation_type: string;
  data?: Record<string, unknown>;
}

export type NativeClick = "connect" | "disconnect" | "renew-token" | "upload-license-usage" | "upload-usage-metrics";

const ACTION_OF: Record<NativeClick, { action: string; operation: string }> = {
  connect: { action: "dotcom_connection.create", operation: "create" },
  disconnect: { action: "dotcom_connection.destroy", operation: "remove" },
  "renew-token": { action: "dotcom_connection.token_updated", operation: "modify" },
  "upload-license-usage": { action: "dotcom_connection.upload_license_usage", operation: "create" },
  "upload-usage-metrics": { action: "dotcom_connection.upload_usage_metrics", operation: "create" },
};

/** An admin clicks in GHES's GitHub Connect settings: the event GHES records for that click. */
export function nativeClick(world: GitHubWorld, click: NativeClick, by: string, account = "acme"): GhesAuditEvent {
  const user = world.ghesUsers.find((u) => u.login === by);
  const now = world.now();
  const { action, operation } = ACTION_OF[click];
  const event: GhesAuditEvent = {
    "@timestamp": now,
    _document_id: randomBytes(11).toString("base64url"),
    action,
    actor: by,
    actor_id: user?.id ?? 0,
    business: world.enterpriseSlug,
    business_id: 1,
    created_at: now,
    operation_type: operation,
    // GHES's own payload for these is `dotcom_connection: true` with the actor (see connectedAccount
    // in core/native/events.ts); it names no account. The stand-in adds one (in `data`, a place the
    // reader accepts) so the demo can show it; real GHES leaves status at "account not named".
    ...(click === "connect" ? { dotcom_connection: true, data: { dotcom_account: account } } : { dotcom_connection: true }),
  };
  world.ghesAuditLog.push(event);
  return event;
}

/** GitHub's audit-log search: `action:` (a category or one action), `actor:`, `created:` with >=, >, <=, <. */
function matches(event: GhesAuditEvent, phrase: string): boolean {
  for (const term of phrase.split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = term.split(":");
    const value = rest.join(":");
    if (key === "action") {
      if (!(event.action === value || event.action.startsWith(`${value}.`))) return false;
    } else if (key === "actor") {
      if (event.actor !== value) return false;
    } else if (key === "created") {
      const m = /^(>=|<=|>|<)?(.+)$/.exec(value);
      const at = Date.parse(m?.[2] ?? "");
      if (Number.isNaN(at)) return false;
      const op = m?.[1] ?? ">=";
      const t = event.created_at;
      if ((op === ">=" && t < at) || (op === ">" && t <= at) || (op === "<=" && t > at) || (op === "<" && t >= at)) return false;
    }
  }
  return true;
}

export function ghesAuditRoutes(r: SandboxRouter, world: GitHubWorld, urls: { ghes: string }): void {
  const authed = (req: SandboxRequest) => req.headers.authorization?.replace(/^(token|bearer)\s+/i, "") === world.ghesToken;
  // GHES's GraphQL, the one query ghconnect asks it: `viewer { enterprises }` (User.enterprises,
  // scope read:enterprise, which admin:enterprise includes). A GHES has one enterprise.
  r.on("POST", "/api/graphql", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    const query = String((req.body as { query?: unknown }).query ?? "");
    if (!/viewer\s*\{\s*enterprises\b/.test(query))
      return {
        status: 200,
        headers: githubHeaders(world),
        json: { errors: [{ message: "The sandbox answers only viewer { enterprises }." }] },
      };
    if (!world.ghesTokenScopes.some((s) => s === "admin:enterprise" || s === "read:enterprise"))
      return {
        status: 200,
        headers: githubHeaders(world),
        json: {
          data: { viewer: { enterprises: null } },
          errors: [
            {
              type: "INSUFFICIENT_SCOPES",
              path: ["viewer", "enterprises"],
              message:
                "Your token has not been granted the required scopes to execute this query. The 'enterprises' field requires one of the following scopes: ['read:enterprise'].",
            },
          ],
        },
      };
    return {
      status: 200,
      headers: githubHeaders(world),
      json: { data: { viewer: { enterprises: { nodes: [{ slug: world.enterpriseSlug }] } } } },
    };
  });
  // GHES answers 404 here while GitHub Actions is not enabled on the appliance.
  r.on("GET", "/api/v3/enterprises/:enterprise/actions/permissions", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    if (String(req.params.enterprise).toLowerCase() !== world.enterpriseSlug.toLowerCase() || !world.ghesActionsEnabled)
      return ghError(world, 404, "Not Found");
    return { status: 200, headers: githubHeaders(world), json: { enabled_organizations: "all", allowed_actions: "all" } };
  });
  r.on("GET", "/api/v3/enterprises/:enterprise/audit-log", (req) => {
    if (!authed(req)) return ghError(world, 401, "Bad credentials");
    if (String(req.params.enterprise).toLowerCase() !== world.enterpriseSlug.toLowerCase()) return ghError(world, 404, "Not Found");
    // A classic PAT without the scope: GitHub names what it has and what the endpoint accepts.
    if (!world.ghesTokenScopes.some((s) => s === "admin:enterprise" || s === "read:audit_log")) {
      return ghError(world, 403, "Must have admin:enterprise or read:audit_log scope", {
        "x-oauth-scopes": world.ghesTokenScopes.join(", "),
        "x-accepted-oauth-scopes": "admin:enterprise, read:audit_log",
      });
    }
    const q = req.url.searchParams;
    const perPage = Math.min(100, Math.max(1, Number(q.get("per_page") ?? 30) || 30));
    const order = q.get("order") === "asc" ? "asc" : "desc";
    const all = world.ghesAuditLog.filter((e) => matches(e, q.get("phrase") ?? ""));
    all.sort((a, b) => (order === "asc" ? a.created_at - b.created_at : b.created_at - a.created_at));
    // Cursors are opaque to clients; here, the document id of the last entry handed out.
    const after = q.get("after");
    const start = after ? all.findIndex((e) => e._document_id === Buffer.from(after, "base64url").toString()) + 1 : 0;
    const page = all.slice(start, start + perPage);
    const headers = githubHeaders(world);
    const last = page.at(-1);
    if (last && start + perPage < all.length) {
      const next = new URL(`${urls.ghes}${req.url.pathname}`);
      for (const [k, v] of q) if (k !== "after") next.searchParams.set(k, v);
      next.searchParams.set("after", Buffer.from(last._document_id).toString("base64url"));
      headers.link = `<${next}>; rel="next"`;
    }
    return { status: 200, headers, json: page };
  });
}
