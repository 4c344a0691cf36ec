import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/core/commands.js";

describe("the command parser", () => {
  it("compares org names case-insensitively (GitHub does)", () => {
    expect(parseCommand("enable ACME")).toEqual({ ok: true, command: { name: "enable", org: "acme" } });
    expect(parseCommand("Connect Octo-Inc")).toEqual({ ok: true, command: { name: "enable", org: "octo-inc" } });
    expect(parseCommand("disconnect acme")).toEqual({ ok: true, command: { name: "disable", org: "acme" } });
  });

  it("reads mentions the way Slack escapes them", () => {
    expect(parseCommand("admins add <@U0CAROL001|carol> carol")).toEqual({
      ok: true,
      command: { name: "admins-add", slackUserId: "U0CAROL001", ghesLogin: "carol" },
    });
    expect(parseCommand("admins remove <@U0CAROL001>")).toEqual({
      ok: true,
      command: { name: "admins-remove", slackUserId: "U0CAROL001" },
    });
  });

  it("accepts the longest valid org name and refuses one character more", () => {
    expect(parseCommand(`enable ${"a".repeat(39)}`).ok).toBe(true);
    expect(parseCommand(`enable ${"a".repeat(40)}`).ok).toBe(false);
  });
});
