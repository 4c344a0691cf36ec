// Slack retries a delivery it thinks failed (X-Slack-Retry-Num). Each delivery has an id
// (trigger_id for commands and clicks, event_id for events). Recording it never delays the ack:
// listeners ack first, then ask `firstDelivery()`, which records the id and says whether this is
// the first time any replica saw it (or `auditOnce`); a retry is answered but never run twice.
import { createHash } from "node:crypto";
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { AuditEntry, AuditInput } from "../core/audit.js";

export function deliveryId(body: Record<string, unknown>): { id: string; kind: string } | undefined {
  if (typeof body.event_id === "string") return { id: `event:${body.event_id}`, kind: "event" };
  if (typeof body.trigger_id !== "string" && (typeof body.command === "string" || typeof body.type === "string")) {
    // No trigger_id: a retry repeats the body exactly, while a new invocation has a new
    // response_url, so the body's hash identifies the delivery.
    return {
      id: `body:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`,
      kind: typeof body.command === "string" ? "command" : String(body.type),
    };
  }
  if (typeof body.trigger_id === "string" && typeof body.command === "string") return { id: `command:${body.trigger_id}`, kind: "command" };
  if (typeof body.trigger_id === "string" && typeof body.type === "string") {
    const actions = body.actions as Array<{ action_id?: string; action_ts?: string }> | undefined;
    const action = actions?.[0];
    return { id: `${body.type}:${body.trigger_id}:${action?.action_id ?? ""}:${action?.action_ts ?? ""}`, kind: String(body.type) };
  }
  return undefined;
}

export type FirstDelivery = () => Promise<boolean>;
/** Records an answered command's audit entry, unless this delivery was recorded before. */
export type AuditOnce = (input: AuditInput) => Promise<AuditEntry | undefined>;

/**
 * Puts `firstDelivery` (memoized: one insert per delivery) and `auditOnce` in the context. A
 * listener uses one of the two: `firstDelivery` before doing work that must happen once,
 * `auditOnce` after an answer that is already out.
 */
export function deliveryContext(store: {
  firstDelivery(deliveryId: string, kind: string): Promise<boolean>;
  auditOnce(delivery: { deliveryId: string; kind: string } | undefined, input: AuditInput): Promise<AuditEntry | undefined>;
}): Middleware<AnyMiddlewareArgs> {
  return async ({ body, context, next }) => {
    const delivery = deliveryId(body as Record<string, unknown>);
    let answer: Promise<boolean> | undefined;
    context.firstDelivery = (() => {
      answer ??= delivery ? store.firstDelivery(delivery.id, delivery.kind) : Promise.resolve(true);
      return answer;
    }) satisfies FirstDelivery;
    context.auditOnce = ((input) =>
      store.auditOnce(delivery && { deliveryId: delivery.id, kind: delivery.kind }, input)) satisfies AuditOnce;
    await next();
  };
}
