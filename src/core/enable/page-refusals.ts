// Refused requests to the enable flow's browser pages. Anyone can send these requests, so each
// refusal is counted on the audit trail as `enable.<page>_refused`, coalesced (see RefusalLog),
// and never records the request's code or state.
import type { Operation } from "../model.js";
import type { EnableContext } from "./context.js";
import { type PageOutcome, type PageRefusalCode, type PageText, pageText } from "./outcome.js";
import { stateProblemPage, statusExplanation } from "./wording.js";

/** The pages anyone can request; each refusal is audited as `enable.<page>_refused`, coalesced. */
export type GitHubPage = "manifest" | "callback" | "setup" | "register" | "credentials";

export interface PageRefusal {
  at: GitHubPage;
  refusal: PageRefusalCode;
  /** For the audit entry: names what was wrong, never a value the requester sent. */
  reason: string;
  op?: Operation;
  operationId?: string;
}

/** Counts a refused request to a GitHub page on the audit trail (never its code or state). */
export async function recordRefusal(ctx: EnableContext, refused: PageRefusal): Promise<void> {
  const operation = refused.op?.id ?? refused.operationId;
  await ctx.refusals.record({
    actor: { slack: null },
    action: `enable.${refused.at}_refused`,
    target: refused.op?.org ?? null,
    outcome: "refused",
    details: { refusal: refused.refusal, reason: refused.reason, ...(operation ? { operation } : {}) },
  });
}

/** Records the refusal and answers with it; the page says `page`. */
export async function refuse(ctx: EnableContext, refused: PageRefusal & { page: PageText }): Promise<PageOutcome> {
  await recordRefusal(ctx, refused);
  return { kind: "refused", refusal: refused.refusal, ...refused.page };
}

/** The state's operation is not at the step this page belongs to. */
export function refuseNotWaiting(
  ctx: EnableContext,
  notWaiting: { at: GitHubPage; operationId: string; op: Operation | undefined; title: string },
): Promise<PageOutcome> {
  const { at, op } = notWaiting;
  const explanation = !op
    ? "This request no longer exists."
    : (at === "credentials" || at === "register") && op.status === "awaiting_install"
      ? `This step is done: the app's credentials were accepted and kept; the enable of the enterprise ${op.org} now waits for the app to be installed.`
      : at === "callback" && op.status === "awaiting_install"
        ? `This step is done: the app was created on GitHub and its credentials kept; the enable of ${op.org} now waits for the app to be installed.`
        : statusExplanation(op);
  return refuse(ctx, {
    at,
    refusal: "not_waiting",
    reason: op ? `the operation is ${op.status}` : "the operation no longer exists",
    operationId: notWaiting.operationId,
    op,
    page: pageText(notWaiting.title, `${explanation} Nothing was changed.`),
  });
}

/** The page's state: unused, unexpired and for this step, with its operation; else the refusal page. */
export async function pageState(
  ctx: EnableContext,
  at: GitHubPage,
  state: string,
  purpose: "manifest" | "register" | "install",
): Promise<{ operationId: string; op: Operation | undefined } | PageOutcome> {
  const { store } = ctx.deps;
  const check = await store.states.peek(state, purpose);
  if (!check.ok)
    return refuse(ctx, {
      at,
      refusal: "no_valid_state",
      reason: `${check.reason} state`,
      operationId: check.operationId,
      page: stateProblemPage(check.reason),
    });
  return { operationId: check.operationId, op: await store.operations.get(check.operationId) };
}
