// GitHub's failures, in a sentence an admin can act on: who answered what, and the request id
// GitHub support asks for.
import { Unreachable, UpstreamError } from "../core/errors.js";
import { networkAdvice } from "../core/preflight.js";
import { classifyNetworkError } from "./transport.js";

interface OctokitLikeError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

export function describeGitHubError(what: string, host: string, error: unknown): string {
  const e = error as OctokitLikeError;
  if (answered(error)) {
    const requestId = e.response?.headers?.["x-github-request-id"];
    const data = e.response?.data as { message?: string } | undefined;
    const message = data?.message ?? e.message ?? "";
    const retryAfter = e.response?.headers?.["retry-after"];
    const rate =
      e.status === 429 || (e.status === 403 && /rate limit/i.test(message))
        ? ` (rate limited${retryAfter ? `; retry after ${retryAfter}s` : ""})`
        : "";
    return `${what}: ${host} answered ${e.status} ${message ? `“${message.slice(0, 140)}”` : ""}${rate}${requestId ? ` — GitHub request id ${requestId}` : ""}`.replace(
      /\s+/g,
      " ",
    );
  }
  return `${what}: could not reach ${host} — ${classifyNetworkError(error).detail}`;
}

export function upstream(what: string, host: string, error: unknown, hint?: string): UpstreamError {
  const message = describeGitHubError(what, host, error);
  // Not answered at all: the fix depends on what failed (DNS, TLS, refused, timeout), per host.
  if (!answered(error)) {
    const { kind } = classifyNetworkError(error);
    return new Unreachable(message, hint ?? networkAdvice({ kind, host }), { kind, host });
  }
  return new UpstreamError(message, hint ?? "Nothing was changed. Try again in a few minutes; `/ghconnect check` shows what is reachable.");
}

/** Whether the server answered; Octokit reports a failed fetch as status 500 with no response. */
function answered(error: unknown): boolean {
  const e = error as OctokitLikeError;
  return typeof e?.status === "number" && e.status > 0 && e.response !== undefined;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as OctokitLikeError)?.status;
  return typeof status === "number" && status > 0 ? status : undefined;
}
