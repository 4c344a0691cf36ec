// The gate in front of Bolt for POST /slack/events. It reads the body once (with a size limit),
// verifies Slack's v0 signature, refuses timestamps more than five minutes away in either
// direction (Bolt alone accepts any future one), and parses and checks the payload; only then
// does Bolt get it, already parsed (slack/http-receiver.ts), so nothing is read or parsed twice.

import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import rawBody from "raw-body";
import { checkSlackBody, isSslCheck, type SlackBody } from "./payload.js";

export const MAX_SKEW_SECONDS = 300;

export type GateResult = { pass: true; parsed: SlackBody } | { pass: false; status: number; reason: string };

export async function slackGate(
  req: IncomingMessage,
  options: { signingSecret: string; bodyLimit: number; now: () => number },
): Promise<GateResult> {
  let body: Buffer;
  try {
    body = await rawBody(req, { limit: options.bodyLimit });
  } catch (error) {
    const e = error as { type?: string; status?: number };
    return e.type === "entity.too.large" || e.status === 413
      ? { pass: false, status: 413, reason: "body too large" }
      : { pass: false, status: 400, reason: "unreadable body" };
  }
  const text = body.toString("utf8");
  const contentType = req.headers["content-type"]?.toLowerCase();
  if (isSslCheck(text, contentType)) return { pass: true, parsed: { kind: "ssl_check" } };
  const signature = req.headers["x-slack-signature"];
  const timestamp = req.headers["x-slack-request-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string" || !/^\d{1,12}$/.test(timestamp)) {
    return { pass: false, status: 401, reason: "missing or malformed signature headers" };
  }
  const skew = Number(timestamp) - Math.floor(options.now() / 1000);
  if (Math.abs(skew) > MAX_SKEW_SECONDS)
    return { pass: false, status: 401, reason: `request timestamp is ${Math.abs(skew)}s ${skew > 0 ? "in the future" : "old"}` };
  if (!signatureMatches(options.signingSecret, timestamp, text, signature))
    return { pass: false, status: 401, reason: "signature does not match" };
  // A media type with parameters (`; charset=utf-8`) is the same media type.
  const check = checkSlackBody(text, contentType);
  if (!check.ok) return { pass: false, status: 400, reason: check.reason };
  return { pass: true, parsed: check.parsed };
}

/**
 * Slack's v0 signature: "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing
 * secret, compared in constant time. (Bolt's verifier compares through tsscmp, which draws fresh
 * random bytes and computes two more HMACs per request: a third of the gate's time under load.)
 */
export function signatureMatches(signingSecret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(`v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function refuse(res: ServerResponse, status: number, reason: string): void {
  // 401s say nothing about why, and are empty like Bolt's: a forger learns nothing from the answer.
  if (status === 401) {
    res.writeHead(401);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: reason }));
}
