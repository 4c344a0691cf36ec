// The GHES Management Console API: the license data the connection record needs (customer name,
// public key portion, the license itself for its hash). Basic auth, user `api_key`.
import { ConfigurationProblem } from "../core/errors.js";
import type { LicenseFacts, ManageGateway } from "../core/ports.js";
import { statusOf, upstream } from "./errors.js";
import { createOctokit, type GhOctokitInstance } from "./octokit.js";
import type { FetchLike } from "./transport.js";

export class ManageClient implements ManageGateway {
  private readonly octokit?: GhOctokitInstance;
  private readonly authorization?: string;
  readonly host: string;

  constructor(url: string | undefined, password: string | undefined, fetch: FetchLike) {
    this.host = url ? new URL(url).host : "(GHES_MANAGE_URL not set)";
    if (url && password) {
      this.octokit = createOctokit({ baseUrl: url, fetch });
      this.authorization = `Basic ${Buffer.from(`api_key:${password}`).toString("base64")}`;
    }
  }

  get configured(): boolean {
    return this.octokit !== undefined;
  }

  /** The appliance's own proxy (`http_proxy` in GET /manage/v1/config/settings), null when none is set. */
  async httpProxy(): Promise<string | null> {
    if (!this.octokit || !this.authorization) {
      throw new ConfigurationProblem(
        "GHES_MANAGE_URL and GHES_MANAGE_PASSWORD are not set, so GHES's own proxy setting cannot be read.",
        "Set both to the Management Console's URL (port 8443) and password, then restart the bot.",
      );
    }
    try {
      const { data } = await this.octokit.request("GET /manage/v1/config/settings", { headers: { authorization: this.authorization } });
      const proxy = (data as { http_proxy?: string | null }).http_proxy;
      return typeof proxy === "string" && proxy.trim() ? proxy.trim() : null;
    } catch (error) {
      if (statusOf(error) === 401) {
        throw new ConfigurationProblem(
          `The Management Console API at ${this.host} refused GHES_MANAGE_PASSWORD (401).`,
          "Set GHES_MANAGE_PASSWORD to the Management Console password and restart the bot. Nothing was changed.",
        );
      }
      throw upstream("Reading GHES's proxy setting from the Management Console", this.host, error);
    }
  }

  async licenseFacts(signal?: AbortSignal): Promise<LicenseFacts> {
    if (!this.octokit || !this.authorization) {
      throw new ConfigurationProblem(
        "GHES_MANAGE_URL and GHES_MANAGE_PASSWORD are not set, so the license data that GitHub Connect records (customer name, public key) cannot be read.",
        "Set both to the Management Console's URL (port 8443) and password (ghconnect reads them at start-up).",
      );
    }
    const headers = { authorization: this.authorization };
    try {
      const [settings, license] = await Promise.all([
        this.octokit.request("GET /manage/v1/config/settings", { headers, request: { signal } }),
        this.octokit.request("GET /manage/v1/config/license", { headers, request: { signal } }),
      ]);
      const s = settings.data as {
        github_hostname?: string;
        customer?: { name?: string; public_key_data?: string };
        license?: { expire_at?: string };
      };
      const l = license.data as Record<string, unknown>;
      // Newer GHES releases answer in camelCase (expireAt), older ones in snake_case (expire_at).
      const expiresAt = [l.expireAt, l.expire_at, s.license?.expire_at].find((v): v is string => typeof v === "string") ?? null;
      return {
        customerName: s.customer?.name ?? String(l.company ?? ""),
        publicKey: s.customer?.public_key_data ?? "",
        hostname: s.github_hostname ?? "",
        licenseData: l,
        expiresAt,
      };
    } catch (error) {
      if (statusOf(error) === 401) {
        throw new ConfigurationProblem(
          `The Management Console API at ${this.host} refused GHES_MANAGE_PASSWORD (401).`,
          "Set GHES_MANAGE_PASSWORD to the Management Console password and restart the bot. Nothing was changed.",
        );
      }
      throw upstream("Reading the license from the Management Console", this.host, error);
    }
  }
}
