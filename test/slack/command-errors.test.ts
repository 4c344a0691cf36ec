// Malformed commands: a private, specific error, and nothing changed (only the refusal audited).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditSettled, type BotHarness, eventually, messageText, startBot, USERS } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";

describe.each(ENGINES)("malformed commands (%s)", (engine) => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBot(engine);
  });
  afterAll(async () => {
    await bot?.close();
  });

  const cases: Array<[string, string, RegExp]> = [
    ["unknown subcommand", "frobnicate", /`frobnicate` is not a ghconnect command/],
    ["enable without an org", "enable", /`enable` needs the GitHub organization, e\.g\. `\/ghconnect enable acme`/],
    ["enable with a double hyphen", "enable bad--name", /hyphens cannot be doubled/],
    ["enable with dots", "enable bad..name", /use letters, digits and single hyphens only/],
    ["enable with a quoted name", 'enable "acme corp"', /no spaces or quotes/],
    ["enable -rf", "enable -rf", /cannot start or end with a hyphen/],
    ["a 40-character org", `enable ${"a".repeat(40)}`, /at most 39 characters/],
    ["10 kB of text", "x".repeat(10 * 1024), /10240 characters long; ghconnect commands are at most 300/],
    ["audit with a silly count", "audit 5000", /N from 1 to 50/],
    ["status with arguments", "status please", /`status` takes no arguments/],
  ];

  it.each(cases)("%s → a specific private error", async (_name, text, expected) => {
    const before = await auditSettled(bot.app);
    const { status, ack } = await bot.driver.command(USERS.alice, text);
    expect(status).toBe(200);
    expect((ack as { response_type: string }).response_type).toBe("ephemeral");
    const shown = messageText(ack as object);
    expect(shown).toMatch(expected);
    expect(shown).toContain("Nothing was changed");
    const latest = await eventually(async () => (await bot.app.store.audit.latest(1)).find((e) => e.seq === before + 1));
    expect(latest).toMatchObject({ action: "command.rejected", outcome: "refused", actor_slack: USERS.alice });
    expect(String(latest?.details.text).length).toBeLessThanOrEqual(200);
  });

  it("a valid org name is accepted for processing (acknowledged without an error)", async () => {
    const { status, ack } = await bot.driver.command(USERS.alice, "enable ACME");
    expect(status).toBe(200);
    expect(ack).toBeFalsy();
  });
});
