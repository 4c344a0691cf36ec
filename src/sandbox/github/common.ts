// What every GitHub response carries (request id, rate-limit headers, Date on the sandbox clock),
// GitHub-shaped errors, and fault injection applied before routing.
import { randomBytes } from "node:crypto";
import type { SandboxRequest, SandboxResponse } from "../http.js";
import type { GitHubWorld, HostName } from "./world.js";

export const DOCS = "https://docs.github.com/rest";

export function githubHeaders(world: GitHubWorld, extra: Record<string, string> = {}): Record<string, string> {
  const reset = Math.floor(world.now() / 1000) + 3600;
  return {
    "x-github-request-id": `${randomBytes(4).toString("hex").toUpperCase()}:${randomBytes(6).toString("hex").toUpperCase()}`,
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": String(reset),
    "x-ratelimit-resource": "core",
    date: new Date(world.now()).toUTCString(),
    ...extra,
  };
}

export function ghError(world: GitHubWorld, status: number, message: string, extraHeaders: Record<string, string> = {}): SandboxResponse {
  return { status, headers: githubHeaders(world, extraHeaders), json: { message, documentation_url: DOCS, status: String(status) } };
}

export function ok(world: GitHubWorld, json: unknown, status = 200): SandboxResponse {
  return { status, headers: githubHeaders(world), json };
}

export function noContent(world: GitHubWorld): SandboxResponse {
  return { status: 204, headers: githubHeaders(world) };
}

/** Applies an injected fault for this host, if one is pending: delay, then maybe an error. */
export async function applyFault(world: GitHubWorld, host: HostName, req: SandboxRequest): Promise<SandboxResponse | undefined> {
  const fault = world.takeFault(host, req.url.pathname, req.method);
  if (!fault) return undefined;
  if (fault.hold) {
    fault.hold.caught();
    const served = await Promise.race([fault.hold.released.then(() => true), req.closed.then(() => false)]);
    // The client gave up (or was killed): GitHub never acted on the request.
    if (!served) return { status: 499, json: { message: "client closed the request" } };
    return undefined;
  }
  if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (fault.until) await fault.until.catch(() => undefined);
  if (fault.secondary) {
    return ghError(world, 403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", {
      "retry-after": String(fault.retryAfter ?? 1),
    });
  }
  if (fault.status === 429) {
    return ghError(world, 429, "API rate limit exceeded.", {
      "retry-after": String(fault.retryAfter ?? 1),
      "x-ratelimit-remaining": "0",
    });
  }
  if (fault.status) return ghError(world, fault.status, fault.status >= 500 ? "Server Error" : "Injected error");
  return undefined;
}
