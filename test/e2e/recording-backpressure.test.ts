// Sustained load (SPEC §10): when answers given in acks wait to be recorded faster than they are
// written, the bot paces the senders instead of shedding: every command still gets its real
// answer, and each ack goes out only once its audit entry is written. Backlog 0 puts the bot in
// that state from the first command.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditSettled, type BotHarness, messageText, startBot, USERS } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";

describe.each(ENGINES)("recording backed up (%s)", (engine) => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBot(engine, {}, { recordingBacklog: 0 });
  });
  afterAll(async () => {
    await bot?.close();
  });

  it("a burst of commands from many people gets real answers, none 'busy', each audited by the time its ack arrives", async () => {
    const before = await auditSettled(bot.app);
    const users = Array.from({ length: 40 }, (_, i) => `U0LOAD${String(i).padStart(4, "0")}`);
    const answers = await Promise.all(
      users.map(async (user, i) => {
        const result = await bot.driver.command(user, i % 2 ? "help" : "status");
        // Read as soon as this ack is in: its entry must already be there.
        const entries = await bot.app.store.audit.latest(100);
        return { user, text: messageText(result.ack as object), audited: entries.some((e) => e.actor_slack === user && e.seq > before) };
      }),
    );
    for (const { text, audited } of answers) {
      expect(text).not.toContain("ghconnect is busy");
      expect(audited).toBe(true);
    }
    expect(answers.filter((_, i) => i % 2).every((a) => a.text.includes("/ghconnect enable ORG"))).toBe(true);
    expect(await bot.app.store.audit.count()).toBe(before + users.length);
  });

  it("Slack's retry of a command answered in the ack is answered again and audited once; the chain stays intact", async () => {
    const before = await auditSettled(bot.app);
    const first = await bot.driver.command(USERS.alice, "help");
    const retried = await bot.driver.retry(first.request, 1);
    expect(messageText(retried.ack as object)).toBe(messageText(first.ack as object));
    expect(await bot.app.store.audit.count()).toBe(before + 1);
    const { verifyChain } = await import("../../src/core/audit.js");
    const all = [];
    for await (const entry of bot.app.store.audit.all()) all.push(entry);
    expect(verifyChain(all)).toMatchObject({ ok: true, count: before + 1 });
  });
});
