// The Slack lines of `check`, and the sentence the bot logs and /healthz shows when Slack cannot
// be used: from one auth.test, what is wrong (a refused token, an unreachable host) and the fix.

import type { SlackProbe } from "./ports.js";
import type { CheckResult } from "./preflight.js";
import { networkAdvice, proxyRefusedDetail } from "./preflight.js";

export const REQUIRED_SLACK_SCOPES = ["commands", "chat:write"];

/** Slack's auth.test errors that mean the token itself is wrong, not that Slack is unwell. */
export const REFUSED_TOKEN_ERRORS = ["invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"];

/** One line saying what is wrong, and the fix. */
export function slackProblem(probe: Extract<SlackProbe, { ok: false }>, proxy?: string): { detail: string; advice: string } {
  switch (probe.reason) {
    case "token_refused":
      return {
        detail: `SLACK_BOT_TOKEN was refused by Slack (${probe.code})`,
        advice:
          "Set SLACK_BOT_TOKEN to this app's Bot User OAuth Token (api.slack.com/apps → OAuth & Permissions, xoxb-…), and check the app is installed in the workspace.",
      };
    case "network":
      return {
        detail: `cannot reach ${probe.host}: ${
          probe.code === "refused" && proxy
            ? proxyRefusedDetail(proxy, probe.detail)
            : `${probe.detail}${proxy ? ` through the proxy ${new URL(proxy).host}` : ""}`
        }`,
        advice: networkAdvice({ kind: probe.code, host: probe.host, proxy }),
      };
    default:
      return {
        detail: `${probe.host} answered ${probe.detail}`,
        advice: "Slack may be having an incident (https://slack-status.com); the bot retries by itself.",
      };
  }
}

/** The `check` lines for Slack: the token (and who it is), then its scopes. */
export function slackCheckResults(probe: SlackProbe, proxy?: string): CheckResult[] {
  const name = `Slack (${probe.host})`;
  if (!probe.ok) {
    const { detail, advice } = slackProblem(probe, proxy);
    return [{ name, status: "fail", detail, advice }];
  }
  const missing = REQUIRED_SLACK_SCOPES.filter((s) => !probe.scopes.includes(s));
  return [
    { name, status: "ok", detail: `the bot token works: @${probe.botUser} in ${probe.team}` },
    missing.length
      ? {
          name: "Slack scopes",
          status: "fail",
          detail: `the bot token lacks ${missing.join(", ")}`,
          advice: "Add the scopes in manifest.yml and reinstall the app.",
        }
      : { name: "Slack scopes", status: "ok", detail: `bot token has ${REQUIRED_SLACK_SCOPES.join(", ")}` },
  ];
}
