// Checks Bolt leaves out. Bolt verifies the v0 signature and rejects timestamps more than five
// minutes old, but accepts any timestamp in the future; SPEC §7 wants both directions refused,
// since a future-dated signed request could otherwise be replayed for as long as it stays ahead.
import type { IncomingMessage } from "node:http";

export const MAX_SKEW_SECONDS = 300;

/** A reason to refuse the request with 401 before Bolt sees it, or undefined. */
export function futureTimestampProblem(req: IncomingMessage, nowMs: number): string | undefined {
  const raw = req.headers["x-slack-request-timestamp"];
  if (typeof raw !== "string" || !/^\d{1,12}$/.test(raw)) return undefined; // Bolt refuses missing or malformed ones.
  const skew = Number(raw) - Math.floor(nowMs / 1000);
  return skew > MAX_SKEW_SECONDS ? `request timestamp is ${skew}s in the future` : undefined;
}
