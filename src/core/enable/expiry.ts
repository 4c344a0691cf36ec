// The enable flow's periodic sweep: operations whose time ran out end as expired, and
// completions whose lease ran out (their replica died or hangs) end as interrupted.
import { enableArgument } from "../enable-card.js";
import { simpleMessage } from "../message.js";
import type { Operation } from "../model.js";
import { completingLeaseMs, type EnableContext, replyToRequester, settingsUrl, updateCard } from "./context.js";
import { endOperation } from "./end.js";

/** Ends operations whose time ran out, and completions whose lease ran out (the app's periodic sweep). */
export async function expireStale(ctx: EnableContext): Promise<number> {
  const stale = await ctx.deps.store.operations.expiredInFlight(ctx.now());
  let n = 0;
  for (const op of stale.filter((o) => o.kind === "enable")) if (await expire(ctx, op)) n++;
  return n;
}

/** Ends one operation whose time ran out; false when it had moved on meanwhile. */
export async function expire(ctx: EnableContext, op: Operation): Promise<boolean> {
  if (op.status === "completing") return interrupt(ctx, op);
  // At the version read: an operation that moved on meanwhile (a new expiry) is not ended.
  const ended = await endOperation(ctx, {
    op,
    status: "expired",
    actor: { slack: null },
    action: "enable.expired",
    details: { expired_at: op.expiresAt, was: op.status },
    version: op.version,
  });
  if (!ended) return false;
  await updateCard(ctx, ended, { kind: "expired" });
  await replyToRequester(
    ctx,
    ended,
    simpleMessage(
      `⌛ Your enable of ${op.org} expired before it finished. Nothing is connected. Run \`/ghconnect enable ${enableArgument(op)}\` to start again.`,
    ),
  );
  return true;
}

/**
 * A completion whose lease ran out: the replica completing it died or hangs. Its connection was
 * never written (that happens in one transaction with the operation's success), so ending the
 * operation with its credentials leaves nothing half-stored; a late answer is fenced out.
 */
async function interrupt(ctx: EnableContext, op: Operation): Promise<boolean> {
  const appLink = op.app ? settingsUrl(ctx, op.app.owner, op.app.slug, op.accountKind) : undefined;
  const minutes = Math.round(completingLeaseMs(ctx) / 60_000);
  const reason = `ghconnect did not finish completing the connection within ${minutes} minute${minutes === 1 ? "" : "s"} (the bot was stopped, or GitHub or its database stopped answering). Nothing was stored: no connection, and the app's credentials were deleted.`;
  const hint = `${appLink ? `Delete the app created for this attempt at ${appLink}, then run` : "Run"} \`/ghconnect enable ${enableArgument(op)}\` again.`;
  const ended = await endOperation(ctx, {
    op,
    status: "failed",
    actor: { slack: null },
    action: "enable.interrupted",
    details: { lease_ended_at: op.expiresAt },
    error: reason,
    version: op.version,
  });
  if (!ended) return false;
  await updateCard(ctx, ended, { kind: "interrupted", reason, hint });
  await replyToRequester(ctx, ended, simpleMessage(`⚠️ Your enable of ${op.org} was interrupted: ${reason}`, hint));
  return true;
}
