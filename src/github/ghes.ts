// GitHub Enterprise Server's REST API (/api/v3), authenticated with the site-admin GHES_TOKEN.
import type { GhesGateway, GhesUserStatus, SearchHit } from "../core/ports.js";
import { statusOf, upstream } from "./errors.js";
import { createOctokit, type GhOctokitInstance } from "./octokit.js";
import type { FetchLike } from "./transport.js";

export class GhesClient implements GhesGateway {
  private readonly octokit: GhOctokitInstance;
  private readonly host: string;

  constructor(
    readonly url: string,
    token: string,
    fetch: FetchLike,
  ) {
    this.octokit = createOctokit({ baseUrl: `${url}/api/v3`, auth: token, fetch });
    this.host = new URL(url).host;
  }

  async version(signal?: AbortSignal): Promise<string> {
    try {
      const { data } = await this.octokit.request("GET /meta", { request: { signal } });
      return String((data as { installed_version?: string }).installed_version ?? "unknown");
    } catch (error) {
      throw upstream("Reading the GHES version", this.host, error);
    }
  }

  async user(login: string): Promise<GhesUserStatus> {
    try {
      const { data } = await this.octokit.request("GET /users/{username}", { username: login });
      return { exists: true, siteAdmin: (data as { site_admin?: boolean }).site_admin === true };
    } catch (error) {
      if (statusOf(error) === 404) return { exists: false, siteAdmin: false };
      throw upstream(
        `Checking whether \`${login}\` is a GHES site admin`,
        this.host,
        error,
        "Nothing was changed. Check that GHES is up and GHES_TOKEN is a site admin's token.",
      );
    }
  }

  async stats(): Promise<Record<string, unknown>> {
    try {
      const { data } = await this.octokit.request("GET /enterprise/stats/all");
      return data as Record<string, unknown>;
    } catch (error) {
      throw upstream("Reading the GHES statistics", this.host, error);
    }
  }
}

export interface RawIssue {
  title: string;
  html_url: string;
  repository_url: string;
  number: number;
  state: string;
  pull_request?: unknown;
  updated_at: string;
  score: number;
}

export function toHits(source: "ghes" | "github", items: RawIssue[]): SearchHit[] {
  return items.map((i) => ({
    source,
    title: i.title,
    url: i.html_url,
    repo: i.repository_url.split("/repos/")[1] ?? "",
    number: i.number,
    state: i.state,
    isPullRequest: Boolean(i.pull_request),
    updatedAt: i.updated_at,
    score: i.score,
  }));
}
