// `status` as an admin reads it: every state an enable or a disconnect can be in is said in words.
import { describe, expect, it } from "vitest";
import type { ApprovalStatus, Operation, OperationStatus } from "../../src/core/model.js";
import { statusMessage } from "../../src/core/status/view.js";

const OPERATION_STATES: OperationStatus[] = [
  "preflight",
  "awaiting_addendum",
  "awaiting_github",
  "awaiting_install",
  "completing",
  "succeeded",
  "failed",
  "expired",
  "cancelled",
];

const text = (m: ReturnType<typeof statusMessage>) => m.blocks.map((b) => ("text" in b ? b.text : "")).join("\n");

describe("status in words", () => {
  it.each(OPERATION_STATES)("an enable that is %s is described without the state's stored name", (state) => {
    const inFlight = { kind: "enable", org: "acme", status: state, requestedBySlack: "U0ALICE001", expiresAt: "2026-11-29T20:00:00Z" };
    const shown = text(statusMessage({ now: new Date("2026-11-29T19:00:00Z"), features: [], inFlight: inFlight as Operation }));
    const line = shown.split("\n").find((l) => l.startsWith("⏳")) ?? "";
    expect(line).toMatch(/^⏳ An enable of acme by <@U0ALICE001> is [a-z]/);
    expect(line).not.toContain("_");
  });

  const approvalWords: Record<ApprovalStatus, string> = {
    pending: "waiting for another admin's approval; expires 2026-11-29 20:00 UTC.",
    approved: "approved and about to start.",
    executing: "being carried out.",
    done: "done.",
    failed: "failed (its card says why).",
    cancelled: "cancelled.",
    expired: "expired.",
    stale: "no longer valid: the connection changed.",
  };

  it.each(Object.keys(approvalWords) as ApprovalStatus[])("a disconnect request that is %s is described in words", (state) => {
    const shown = text(
      statusMessage({
        now: new Date("2026-11-29T19:00:00Z"),
        features: [],
        pendingApproval: { org: "acme", requestedBySlack: "U0ALICE001", expiresAt: "2026-11-29T20:00:00Z", status: state, policy: "peer" },
      }),
    );
    expect(shown).toContain(`⏳ A disconnect of acme requested by <@U0ALICE001> is ${approvalWords[state]}`);
  });
});
