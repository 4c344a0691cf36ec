// Refused requests to the enable flow's browser pages. Anyone can send these requests, so each
// refusal is counted on the audit trail as `enable.<page>_refused`, coalesced (see RefusalLog),
// and never records the request's code or state.
import type { Operation } from "../model.js";
import type { EnableContext } from "./context.js";
import { errorPage, type PageResult } from "./page-result.js";
import { stateProblemPage, statusExplanation } from "./wording.js";

/** The pages anyone can request; each refusal is audited as `enable.<page>_refused`, coalesced. */
export type GitHubPage = "manifest" | "callback" | "setup" | "register" | "credentials";

/** Why a page refused a request (the audit entry's `refusal`). */
export type PageRefusalCode =
  | "no_valid_state"
  | "not_waiting"
  | "incomplete"
  | "code_refused"
  | "code_unverified"
  | "malformed"
  | "malformed_credentials"
  | "key_refused"
  | "wrong_app";

/** Records a refused request to a GitHub page (never its code or state) and answers with `page`. */
export async function refuse(
  ctx: EnableContext,
  refused: {
    at: GitHubPage;
    refusal: PageRefusalCode;
    reason: string;
    page: PageResult;
    op?: Operation;
    operationId?: string;
  },
): Promise<PageResult> {
  const operation = refused.op?.id ?? refused.operationId;
  await ctx.refusals.record({
    actor: { slack: null },
    action: `enable.${refused.at}_refused`,
    target: refused.op?.org ?? null,
    outcome: "refused",
    details: { refusal: refused.refusal, reason: refused.reason, ...(operation ? { operation } : {}) },
  });
  return refused.page;
}

/** The state's operation is not at the step this page belongs to. */
export function refuseNotWaiting(
  ctx: EnableContext,
  notWaiting: { at: GitHubPage; operationId: string; op: Operation | undefined; title: string },
): Promise<PageResult> {
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
    page: errorPage(409, notWaiting.title, `${explanation} Nothing was changed.`),
  });
}

/** The page's state: unused, unexpired and for this step, with its operation; else the refusal page. */
export async function pageState(
  ctx: EnableContext,
  at: GitHubPage,
  state: string,
  purpose: "manifest" | "register" | "install",
): Promise<{ operationId: string; op: Operation | undefined } | PageResult> {
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
