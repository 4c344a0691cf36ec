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
export function checkSlackBody(raw: string, contentType: string | undefined): PayloadCheck {
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
    return result.success
      ? { ok: true, parsed: { kind: "event", body: payload as Record<string, unknown> } }
      : { ok: false, reason: describe(result.error) };
  }
  for (const [key, value] of Object.entries(form)) if (Array.isArray(value)) return { ok: false, reason: `${key} appears more than once` };
  const result = slashCommandSchema.safeParse(form);
  return result.success ? { ok: true, parsed: { kind: "event", body: form } } : { ok: false, reason: describe(result.error) };
}
