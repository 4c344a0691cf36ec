// Asks Slack who the bot token is (auth.test), once: no retries and a short time limit, so
// `check`, start-up and the health watch learn within seconds whether Slack can be used, and why
// not — a refused token, or a host that does not resolve, refuses, hangs or fails TLS.
import { LogLevel, type Logger as SlackLogger, WebClient, type WebClientOptions } from "@slack/web-api";
import type { SlackProbe } from "../core/ports.js";
import { REFUSED_TOKEN_ERRORS } from "../core/slack-check.js";
import { classifyNetworkError } from "../net-errors.js";

export interface SlackProbeOptions {
  token: string;
  apiUrl: string;
  timeoutMs: number;
  /** The proxied fetch, when HTTPS_PROXY is set. */
  fetch?: WebClientOptions["fetch"];
}

// The client's own "http request failed" warnings say less than the probe's answer; keep them out.
const quiet: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

export function slackProbe(options: SlackProbeOptions): () => Promise<SlackProbe> {
  const host = new URL(options.apiUrl).host;
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    logger: quiet,
    timeout: options.timeoutMs,
    // @slack/web-api retries for about 30 minutes by default; a probe answers now.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return async () => {
    try {
      const r = await client.auth.test();
      return {
        ok: true,
        host,
        team: r.team ?? "?",
        botUser: r.user ?? "?",
        scopes: r.response_metadata?.scopes ?? [],
        identity: {
          botId: r.bot_id,
          botUserId: r.user_id,
          teamId: r.team_id,
          enterpriseId: r.enterprise_id,
          enterpriseInstall: r.is_enterprise_install === true,
        },
      };
    } catch (error) {
      return { ok: false, host, ...reasonOf(error, options.timeoutMs) };
    }
  };
}

function reasonOf(error: unknown, timeoutMs: number): { reason: "token_refused" | "network" | "http"; code: string; detail: string } {
  const e = error as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number; original?: unknown };
  if (e.code === "slack_webapi_platform_error") {
    const code = e.data?.error ?? "unknown";
    return REFUSED_TOKEN_ERRORS.includes(code)
      ? { reason: "token_refused", code, detail: code }
      : { reason: "http", code, detail: `with error ${code}` };
  }
  if (e.code === "slack_webapi_http_error") return { reason: "http", code: String(e.statusCode), detail: `HTTP ${e.statusCode}` };
  if (e.code === "slack_webapi_rate_limited_error")
    return { reason: "http", code: "429", detail: `429 (rate limited for ${e.retryAfter} s)` };
  const { kind, detail } = classifyNetworkError(e.original ?? error);
  return { reason: "network", code: kind, detail: kind === "timeout" ? `no answer within ${timeoutMs / 1000} s (timeout)` : detail };
}
