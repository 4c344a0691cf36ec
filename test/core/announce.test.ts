// The admin channel's line for a refused command names the command as an admin types it.
import { describe, expect, it } from "vitest";
import { humanLine } from "../../src/core/announce.js";
import type { AuditEntry } from "../../src/core/audit.js";

function refused(action: string, target: string | null, reason: string): AuditEntry {
  return {
    seq: 7,
    id: "e7",
    at: "2026-11-29T12:00:00.000Z",
    actor_slack: "U0MALLORY1",
    actor_ghes: null,
    actor_github: null,
    action,
    target,
    outcome: "refused",
    details: { reason },
    prev_hash: "0".repeat(64),
    hash: "1".repeat(64),
  };
}

describe("the admin channel's line for a refused command", () => {
  it("says `admins add` and `audit verify` as typed in Slack, not the audit action's hyphenated name", () => {
    expect(humanLine(refused("command.admins-add", "U0CAROL001:carol", "You are not in ghconnect's admin roster."))?.text).toBe(
      "🚫 <@U0MALLORY1> tried `admins add U0CAROL001:carol`: You are not in ghconnect's admin roster.",
    );
    expect(humanLine(refused("command.audit-verify", null, "You are not in ghconnect's admin roster."))?.text).toBe(
      "🚫 <@U0MALLORY1> tried `audit verify`: You are not in ghconnect's admin roster.",
    );
  });
});
