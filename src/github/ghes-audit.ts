// GHES's enterprise audit log (GET /api/v3/enterprises/{enterprise}/audit-log), read with
// GHES_TOKEN. GitHub's description (@octokit/openapi ghes-3.19): the caller must be an enterprise
// admin, and a classic token needs the `admin:enterprise` scope (GitHub's audit-log API guide also
// accepts `read:audit_log` for reading). Search with `phrase` (the audit-log search syntax), pages
// by cursor in the Link header, which Octokit's paginate follows.
import type { NativeEvent } from "../core/native/events.js";
import { toNativeEvent } from "../core/native/events.js";
import { type NativeAuditLog, NativeAuditRefused } from "../core/native/ports.js";
import { statusOf, upstream } from "./errors.js";
import { createOctokit, type GhOctokitInstance } from "./octokit.js";
import type { FetchLike } from "./transport.js";

/** Pages of 100 followed at most per read; more means the watcher was away far too long. */
export const MAX_AUDIT_PAGES = 20;

export const AUDIT_LOG_SCOPE = "admin:enterprise";

export class GhesAuditClient implements NativeAuditLog {
  private readonly octokit: GhOctokitInstance;
  private readonly host: string;

  constructor(url: string, token: string, fetch: FetchLike) {
    this.octokit = createOctokit({ baseUrl: `${url}/api/v3`, auth: token, fetch });
    this.host = new URL(url).host;
  }

  async read(options: { enterprise: string; phrase: string }): Promise<NativeEvent[]> {
    const events: NativeEvent[] = [];
    try {
      let pages = 0;
      for await (const page of this.octokit.paginate.iterator("GET /enterprises/{enterprise}/audit-log", {
        enterprise: options.enterprise,
        phrase: options.phrase,
        order: "desc",
        per_page: 100,
      })) {
        for (const raw of page.data as unknown as Array<Record<string, unknown>>) {
          const event = toNativeEvent(raw);
          if (event) events.push(event);
        }
        if (++pages >= MAX_AUDIT_PAGES) break;
      }
      return events;
    } catch (error) {
      throw this.refusal(options.enterprise, error);
    }
  }

  /**
   * The slug of GHES's enterprise, asked of GHES itself: GraphQL `viewer { enterprises }` (the
   * User.enterprises connection: "A list of enterprises that the user belongs to", scope
   * `read:enterprise`, which `admin:enterprise` includes; the viewer or a site admin may list
   * them). A GHES has one enterprise, so exactly one answer is the slug; anything else is a problem.
   */
  async discoverEnterprise(): Promise<{ slug: string } | { problem: string }> {
    try {
      const answer = await this.octokit.graphql<{ viewer: { enterprises: { nodes: Array<{ slug: string } | null> } | null } }>(
        "query { viewer { enterprises(first: 2) { nodes { slug } } } }",
      );
      const slugs = (answer.viewer.enterprises?.nodes ?? []).flatMap((n) => (n?.slug ? [n.slug] : []));
      if (slugs.length === 1) return { slug: slugs[0] as string };
      return {
        problem: slugs.length
          ? `GHES lists ${slugs.length} enterprises for GHES_TOKEN's user (${slugs.join(", ")}), so the slug is not guessed`
          : "GHES lists no enterprise for GHES_TOKEN's user",
      };
    } catch (error) {
      const message = (error as Error).message.replace(/\s+/g, " ").slice(0, 200);
      return { problem: `GHES at ${this.host} did not tell the enterprise slug (${message})` };
    }
  }

  /** GitHub Actions for the enterprise (GET /enterprises/{enterprise}/actions/permissions): on for some organization, or why not. */
  async actionsEnabled(enterprise: string): Promise<{ ok: boolean; detail: string }> {
    try {
      const { data } = await this.octokit.request("GET /enterprises/{enterprise}/actions/permissions", { enterprise });
      const scope = (data as { enabled_organizations?: string }).enabled_organizations;
      return scope === "none"
        ? { ok: false, detail: "GitHub Actions is on, but no organization may use it (enabled_organizations: none)" }
        : { ok: true, detail: `on for ${scope === "all" ? "all organizations" : "selected organizations"}` };
    } catch (error) {
      if (statusOf(error) === 404)
        return { ok: false, detail: "GitHub Actions is not enabled on GHES (404): enable it in the Management Console first" };
      return { ok: false, detail: (this.refusal(enterprise, error) as Error).message };
    }
  }

  private refusal(enterprise: string, error: unknown): Error {
    const status = statusOf(error);
    const headers = (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
    if (status === 401)
      return new NativeAuditRefused(
        `GHES at ${this.host} refused GHES_TOKEN (401), so its audit log could not be read.`,
        "Set GHES_TOKEN to a valid site admin's token and restart the bot. Nothing was recorded.",
      );
    if (status === 403) {
      const has = headers["x-oauth-scopes"];
      return new NativeAuditRefused(
        `GHES_TOKEN may not read the enterprise audit log of \`${enterprise}\` (403): it needs the \`${AUDIT_LOG_SCOPE}\` scope (or \`read:audit_log\`)${has !== undefined ? `; it has: ${has || "no scopes"}` : ""}.`,
        `Give a site admin's token the \`${AUDIT_LOG_SCOPE}\` scope, set GHES_TOKEN and restart the bot. Nothing was recorded.`,
      );
    }
    if (status === 404)
      return new NativeAuditRefused(
        `GHES at ${this.host} has no enterprise \`${enterprise}\` (404 on its audit log).`,
        "Set GHES_ENTERPRISE to the slug in the address of GHES's enterprise settings (https://GHES/enterprises/SLUG/settings) and restart the bot. Nothing was recorded.",
      );
    return upstream("Reading GHES's enterprise audit log", this.host, error, "Nothing was recorded; the watcher tries again next minute.");
  }
}
