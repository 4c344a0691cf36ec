// The shapes of what Slack POSTs to /slack/events, parsed once and checked with zod before Bolt
// sees them: a payload ghconnect cannot act on is a 400 that changes nothing, never a 500 or a
// silent timeout. Only the fields ghconnect relies on are checked; Slack's other fields pass
// through to Bolt untouched (the schemas only validate; their output is not used).
import { parse as parseQuery } from "node:querystring";
import { z } from "zod";

const slackId = z.string().regex(/^[A-Z0-9][A-Z0-9._-]{1,40}$/i);
const httpsUrl = z
  .string()
  .max(2000)
  .regex(/^https?:\/\//);

/** Where Slack's response_urls live (`https://hooks.slack.com/commands/…`, `…/actions/…`). */
export const SLACK_RESPONSE_URL_ORIGIN = "https://hooks.slack.com";

/**
 * The response_url rule (SPEC §7, README's Security model): the bot POSTs its private replies only
 * to Slack's hooks host, or to the origin of the configured SLACK_API_URL (a Slack stand-in serves
 * both its Web API and its response_urls). A signed request is no proof its response_url is
 * Slack's: whoever holds the signing secret, or a compromised proxy, could name any host, and the
 * bot would POST from inside the network (SSRF).
 */
export function responseUrlRule(slackApiUrl: string | undefined): (url: string) => boolean {
  const allowed = new Set([SLACK_RESPONSE_URL_ORIGIN]);
  if (slackApiUrl) {
    try {
      allowed.add(new URL(slackApiUrl).origin);
    } catch {
      // An unparsable SLACK_API_URL never reaches here (config validates it); Slack's own host stays.
    }
  }
  return (url) => {
    try {
      const parsed = new URL(url);
      return !parsed.username && !parsed.password && allowed.has(parsed.origin);
    } catch {
      return false;
    }
  };
}

export const slashCommandSchema = z.object({
  // The manifest defines one command; any other would reach no listener.
  command: z.literal("/ghconnect"),
  text: z.string().max(40_000).optional(),
  user_id: slackId,
  channel_id: slackId,
  response_url: httpsUrl,
  trigger_id: z.string().max(200).optional(),
});

const action = z.object({
  action_id: z.string().min(1).max(255),
  value: z.string().max(2000).optional(),
  type: z.string().max(50).optional(),
});

export const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: slackId }),
  actions: z.array(action).min(1).max(25),
  response_url: httpsUrl.optional(),
  trigger_id: z.string().max(200).optional(),
});

/** A request body the gate accepts, as Bolt's receivers hand it to `App.processEvent`. */
export type SlackBody =
  | { kind: "ssl_check" }
  | { kind: "url_verification"; challenge: string }
  | { kind: "event"; body: Record<string, unknown> };

export type PayloadCheck = { ok: true; parsed: SlackBody } | { ok: false; reason: string };

const describe = (error: z.ZodError) => {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "payload"}: ${issue.message}` : "invalid payload";
};

/**
 * Slack's SSL check (`ssl_check=1`, sent when a request URL is saved) is not signed; Bolt answers
 * it without verification too. It carries nothing and is answered with an empty 200 whatever
 * else the body holds, so nothing can ride on it.
 */
export function isSslCheck(raw: string, contentType: string | undefined): boolean {
  return !!contentType?.startsWith("application/x-www-form-urlencoded") && raw.includes("ssl_check=") && parseQuery(raw).ssl_check === "1";
}

/**
 * Parses a Slack request body (already signature-verified) and checks it against what ghconnect
 * handles. A form is a slash command, or an interaction whose JSON is in its `payload` field;
 * JSON is only Slack's url_verification (ghconnect subscribes to no events).
 */
export function checkSlackBody(
  raw: string,
  contentType: string | undefined,
  responseUrlAllowed: (url: string) => boolean = responseUrlRule(undefined),
): PayloadCheck {
  if (contentType?.startsWith("application/json")) {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return { ok: false, reason: "body is not valid JSON" };
    }
    const { type, challenge } = (body ?? {}) as { type?: unknown; challenge?: unknown };
    if (type === "url_verification" && typeof challenge === "string") return { ok: true, parsed: { kind: "url_verification", challenge } };
    return { ok: false, reason: "ghconnect subscribes to no Events API events" };
  }
  if (!contentType?.startsWith("application/x-www-form-urlencoded")) return { ok: false, reason: "unsupported content type" };
  // (An SSL check never gets here: the gate answers it before the signature, see isSslCheck.)
  const form = parseQuery(raw);
  if (typeof form.payload === "string") {
    let payload: unknown;
    try {
      payload = JSON.parse(form.payload);
    } catch {
      return { ok: false, reason: "payload is not valid JSON" };
    }
    const type = (payload as { type?: unknown } | null)?.type;
    if (type !== "block_actions")
      return { ok: false, reason: `ghconnect does not handle ${typeof type === "string" ? type.slice(0, 40) : "this"} interactions` };
    const result = blockActionsSchema.safeParse(payload);
    if (!result.success) return { ok: false, reason: describe(result.error) };
    if (result.data.response_url !== undefined && !responseUrlAllowed(result.data.response_url))
      return { ok: false, reason: "response_url is not on Slack's hooks host" };
    return { ok: true, parsed: { kind: "event", body: payload as Record<string, unknown> } };
  }
  for (const [key, value] of Object.entries(form)) if (Array.isArray(value)) return { ok: false, reason: `${key} appears more than once` };
  const result = slashCommandSchema.safeParse(form);
  if (!result.success) return { ok: false, reason: describe(result.error) };
  if (!responseUrlAllowed(result.data.response_url)) return { ok: false, reason: "response_url is not on Slack's hooks host" };
  return { ok: true, parsed: { kind: "event", body: form } };
}
