import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/core/commands.js";
import { CommandRouter } from "../../src/core/router.js";

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

  it("reads link, unlink [ghes|github] and whoami; anything else after them is a specific error", () => {
    expect(parseCommand("link")).toEqual({ ok: true, command: { name: "link" } });
    expect(parseCommand("whoami")).toEqual({ ok: true, command: { name: "whoami" } });
    expect(parseCommand("unlink")).toEqual({ ok: true, command: { name: "unlink" } });
    expect(parseCommand("unlink GitHub")).toEqual({ ok: true, command: { name: "unlink", side: "github" } });
    expect(parseCommand("unlink gitlab")).toEqual({
      ok: false,
      error: "Use `/ghconnect unlink` (both accounts), `/ghconnect unlink ghes` or `/ghconnect unlink github`.",
    });
    expect(parseCommand("link alice")).toEqual({ ok: false, error: "`link` takes no arguments. Try `/ghconnect link`." });
  });

  it("reads `enterprise:SLUG` as an enterprise account and a plain name as an organization", () => {
    expect(parseCommand("enable enterprise:Acme-Corp")).toEqual({
      ok: true,
      command: { name: "enable", org: "acme-corp", enterprise: true },
    });
    expect(parseCommand("disconnect enterprise:acme-corp")).toEqual({
      ok: true,
      command: { name: "disable", org: "acme-corp", enterprise: true },
    });
    expect(parseCommand("enable acme-corp")).toEqual({ ok: true, command: { name: "enable", org: "acme-corp" } });
    const bad = parseCommand("enable enterprise:acme_corp!");
    expect(bad).toEqual({
      ok: false,
      error:
        "`acme_corp!` is not an enterprise slug: use the slug from the enterprise's URL (letters, digits and single hyphens, e.g. `/ghconnect enable enterprise:acme-corp` for github.com/enterprises/acme-corp).",
    });
    expect(parseCommand("enable enterprise:")).toEqual({
      ok: false,
      error: "`enable enterprise:` needs a slug, e.g. `/ghconnect enable enterprise:acme-corp`.",
    });
    expect(parseCommand("disconnect enterprise:")).toEqual({
      ok: false,
      error: "`disconnect enterprise:` needs a slug, e.g. `/ghconnect disconnect enterprise:acme-corp`.",
    });
    const plain = parseCommand("enable acme_corp");
    expect(plain.ok ? "" : plain.error).toContain(
      "A plain name means an organization; for an enterprise account write `/ghconnect enable enterprise:SLUG`.",
    );
  });

  it("accepts the longest valid org name and refuses one character more", () => {
    expect(parseCommand(`enable ${"a".repeat(39)}`).ok).toBe(true);
    expect(parseCommand(`enable ${"a".repeat(40)}`).ok).toBe(false);
  });
});

describe("what a refused or helped user reads", () => {
  const router = new CommandRouter({}, async () => {});
  const ctx = { slackUserId: "U0ALICE001", channelId: "C0ADMINS01" };
  const replyText = (text: string) => {
    const triage = router.triage(text, ctx);
    if (triage.kind !== "immediate") throw new Error("expected an immediate reply");
    return triage.reply.blocks.map((b) => ("text" in b ? b.text : "")).join("\n");
  };

  it("a 10 kB command is refused once, without repeating its last sentence", () => {
    const text = replyText(`enable ${"a".repeat(10_240)}`);
    expect(text).toContain("That command is 10247 characters long; ghconnect commands are at most 300.");
    expect(text.match(/Nothing was changed/g)).toHaveLength(1);
    expect(text.match(/\/ghconnect help/g)).toHaveLength(1);
  });

  it("help names each alias outside the command's code span", () => {
    const text = replyText("help");
    expect(text).toContain("• `/ghconnect check` (or `doctor`) — ");
    expect(text).toContain("• `/ghconnect enable ORG` (or `connect ORG`) — ");
    expect(text).toContain("• `/ghconnect disable ORG` (or `disconnect ORG`) — ");
    expect(text).toContain(
      "• `/ghconnect enable enterprise:SLUG` (or `connect enterprise:SLUG`) — connect to the enterprise account SLUG instead",
    );
    expect(text).toContain("a plain name is always an organization");
    for (const span of text.match(/`[^`]*`/g) ?? []) expect(span).not.toContain("(or");
  });
});
