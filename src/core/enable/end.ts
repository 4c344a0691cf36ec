// How an enable operation ends before it connects: its status, its credentials deleted, its
// states dropped and the audit entry, in one transaction; and, for a page, the failure said on
// the card, to the requester and in the browser.
import type { Actor } from "../audit.js";
import { simpleMessage } from "../message.js";
import { IN_FLIGHT, type Operation, type OperationStatus } from "../model.js";
import { type EnableContext, replyToRequester, updateCard } from "./context.js";
import type { PageOutcome } from "./outcome.js";

export interface OperationEnd {
  op: Operation;
  status: Extract<OperationStatus, "failed" | "expired" | "cancelled">;
  actor: Actor;
  action: string;
  details: Record<string, unknown>;
  error?: string;
  /** Only at this version (a claim or a read the decision was based on). */
  version?: number | null;
}

/** Ends an in-flight operation: status, credentials deleted, states dropped, audited — at once. */
export async function endOperation(ctx: EnableContext, end: OperationEnd): Promise<Operation | undefined> {
  const { op, status, error } = end;
  return ctx.deps.store.transaction(async (tx) => {
    const ended = await tx.operations.transition(op.id, IN_FLIGHT, { status, error: error ?? null }, end.version ?? undefined);
    if (!ended) return undefined;
    const deleted = await tx.credentials.deleteAll({ operationId: op.id });
    await tx.states.dropForOperation(op.id);
    await tx.audit.append({
      actor: end.actor,
      action: end.action,
      target: op.org,
      outcome: status === "cancelled" ? "ok" : "failed",
      details: { operation: op.id, ...end.details, ...(error ? { reason: error } : {}), credentials_deleted: deleted },
    });
    return ended;
  });
}

export interface PageFailure {
  op: Operation;
  actor: Actor;
  action: string;
  reason: string;
  hint?: string;
  link?: { href: string; label: string };
  details?: Record<string, unknown>;
}

/** Fails the operation (at its current version), says so on the card and to the requester, and answers the page. */
export async function failPage(ctx: EnableContext, failure: PageFailure): Promise<PageOutcome> {
  const { op, reason, hint } = failure;
  const ended = await endOperation(ctx, {
    op,
    status: "failed",
    actor: failure.actor,
    action: failure.action,
    details: failure.details ?? {},
    error: reason,
    version: op.version,
  });
  let notified = false;
  if (ended) {
    const carded = await updateCard(ctx, ended, { kind: "failed", reason, hint });
    const replied = await replyToRequester(ctx, ended, simpleMessage(`❌ Enabling ${op.org} failed: ${reason}`, hint));
    notified = carded || replied;
  }
  return {
    kind: "failed",
    title: "GitHub Connect was not enabled",
    message: `${reason} ${hint ?? ""}`.trim(),
    ...(failure.link ? { link: failure.link } : {}),
    notified,
  };
}
