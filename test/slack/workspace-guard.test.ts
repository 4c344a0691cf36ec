// Which requests are this bot's to act on: the fields Slack puts the workspace and app in, for a
// single workspace and for an Enterprise Grid org-wide install.
import { describe, expect, it } from "vitest";
import { configuredHome, foreignReason, requestOrigin } from "../../src/slack/workspace-guard.js";

const command = (fields: Record<string, string>) => ({ command: "/ghconnect", user_id: "U1", api_app_id: "A1", ...fields });

describe("the workspace check", () => {
  const workspace = configuredHome("T0HOME");
  const grid = configuredHome("E0GRID");

  it("a single-workspace bot serves its own team only, and its own app when SLACK_APP_ID is set", () => {
    if (!workspace) throw new Error("no home");
    expect(foreignReason(requestOrigin(command({ team_id: "T0HOME" })), workspace, "A1")).toBeUndefined();
    expect(foreignReason(requestOrigin(command({ team_id: "T0OTHER" })), workspace, undefined)).toBe("another workspace");
    expect(foreignReason(requestOrigin(command({ team_id: "T0HOME", api_app_id: "A2" })), workspace, "A1")).toBe("another app");
    // Another workspace of the same Grid organization is still another workspace.
    expect(foreignReason(requestOrigin(command({ team_id: "T0SISTER", enterprise_id: "E0GRID" })), workspace, undefined)).toBe(
      "another workspace",
    );
    expect(foreignReason(requestOrigin({ command: "/ghconnect", user_id: "U1" }), workspace, undefined)).toBe("another workspace");
  });

  it("an org-wide install (SLACK_TEAM_ID=E…) serves every workspace of its organization and no other", () => {
    if (!grid) throw new Error("no home");
    expect(foreignReason(requestOrigin(command({ team_id: "T0ANY", enterprise_id: "E0GRID" })), grid, undefined)).toBeUndefined();
    expect(foreignReason(requestOrigin(command({ team_id: "T0ANY", enterprise_id: "E0ELSE" })), grid, undefined)).toBe("another workspace");
    expect(foreignReason(requestOrigin(command({ team_id: "T0ANY" })), grid, undefined)).toBe("another workspace");
  });

  it("reads interactions as Bolt does: team.id, else user.team_id; enterprise.id, else team.enterprise_id", () => {
    expect(
      requestOrigin({
        type: "block_actions",
        user: { id: "U1", team_id: "T0USER" },
        team: null,
        enterprise: { id: "E0GRID" },
        api_app_id: "A1",
      }),
    ).toEqual({ kind: "block_actions", teamId: "T0USER", enterpriseId: "E0GRID", appId: "A1", userId: "U1" });
    expect(requestOrigin({ type: "block_actions", user: { id: "U1" }, team: { id: "T0HOME", enterprise_id: "E0GRID" } })).toMatchObject({
      teamId: "T0HOME",
      enterpriseId: "E0GRID",
    });
  });
});
