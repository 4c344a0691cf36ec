// Slack retries a delivery it thinks failed (X-Slack-Retry-Num). Each delivery has an id
// (trigger_id for commands and clicks, event_id for events); the first time we see one we record
// it, and any later delivery with the same id is acknowledged and dropped.
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Logger } from "pino";
import { databaseUnavailableMessage } from "../core/replies.js";
import type { DeliveriesRepo } from "../db/deliveries-repo.js";
import { ephemeral } from "./render.js";

export function deliveryId(body: Record<string, unknown>): { id: string; kind: string } | undefined {
  if (typeof body.event_id === "string") return { id: `event:${body.event_id}`, kind: "event" };
  if (typeof body.trigger_id === "string" && typeof body.command === "string") return { id: `command:${body.trigger_id}`, kind: "command" };
  if (typeof body.trigger_id === "string" && typeof body.type === "string") {
    const actions = body.actions as Array<{ action_id?: string; action_ts?: string }> | undefined;
    const action = actions?.[0];
    return { id: `${body.type}:${body.trigger_id}:${action?.action_id ?? ""}:${action?.action_ts ?? ""}`, kind: String(body.type) };
  }
  return undefined;
}

export function dedupeDeliveries(deliveries: DeliveriesRepo, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { body, next } = args;
    const ack = "ack" in args ? (args.ack as (response?: unknown) => Promise<void>) : undefined;
    const delivery = deliveryId(body as Record<string, unknown>);
    if (!delivery) return next();
    let first: boolean;
    try {
      first = await deliveries.recordFirst(delivery.id, delivery.kind);
    } catch (error) {
      log.error({ err: error }, "could not record a Slack delivery: database unavailable");
      await ack?.(delivery.kind === "command" ? ephemeral(databaseUnavailableMessage()) : undefined);
      return;
    }
    if (!first) {
      log.info({ delivery: delivery.id }, "duplicate Slack delivery acknowledged and not run again");
      await ack?.();
      return;
    }
    await next();
  };
}
