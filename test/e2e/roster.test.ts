// The roster can never be emptied by a race: two admins removing each other at the same moment
// (on PostgreSQL, two transactions that would each see two admins) leave exactly one admin, and
// the other is told why nothing happened. Repeated many times so the overlap really happens.
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

const ROUNDS = 20;
const REFUSED = "You are not in ghconnect's admin roster, so you cannot change the admin roster.";

describe.each(ENGINES)("admins removing each other at once (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  /** The reply to `user`'s command posted at or after `since`, as the user reads it. */
  async function replyTo(user: "alice" | "bob", since: number): Promise<string> {
    return textOf(await world.privateMessage(user, /Removed <@|admin roster|last admin|Added <@/, since));
  }

  it(`one of the two remains, every time (${ROUNDS} rounds); the other is refused; both are audited`, async () => {
    const { alice, bob } = SANDBOX_USERS;
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:${alice.ghes},${bob.slack}:${bob.ghes}` } });
    const store = world.bot.bot.store;
    // Both prove their GHES logins once, so an entry re-added by the other is active at once.
    await world.link("alice", "ghes");
    await world.link("bob", "ghes");
    for (let round = 1; round <= ROUNDS; round++) {
      const lastSeq = await world.lastSeq();
      const since = world.mark();
      await Promise.all([world.command("alice", `admins remove <@${bob.slack}>`), world.command("bob", `admins remove <@${alice.slack}>`)]);
      const replies = { alice: await replyTo("alice", since), bob: await replyTo("bob", since) };

      const roster = await store.admins.list();
      expect(roster, `round ${round}`).toHaveLength(1);
      const winner = roster[0]?.slackUserId === alice.slack ? "alice" : "bob";
      const loser = winner === "alice" ? "bob" : "alice";
      const loserId = SANDBOX_USERS[loser].slack;
      expect(replies[winner], `round ${round}`).toContain(`Removed <@${loserId}> from the admins.`);
      expect(replies[loser], `round ${round}`).toContain(REFUSED);

      const audited = (await world.auditSince(lastSeq)).filter(
        (e) => e.action === "admins.removed" || e.action === "command.admins-remove",
      );
      expect(
        audited.map((e) => ({ action: e.action, by: e.actor_slack, outcome: e.outcome, target: e.target })),
        `round ${round}`,
      ).toEqual(
        expect.arrayContaining([
          { action: "admins.removed", by: SANDBOX_USERS[winner].slack, outcome: "ok", target: `${loserId}:${SANDBOX_USERS[loser].ghes}` },
          { action: "command.admins-remove", by: loserId, outcome: "refused", target: null },
        ]),
      );
      expect(audited, `round ${round}`).toHaveLength(2);
      expect(audited.find((e) => e.outcome === "refused")?.details).toMatchObject({ reason: REFUSED });

      // The survivor adds the other back for the next round.
      const added = world.mark();
      await world.command(winner, `admins add <@${loserId}> ${SANDBOX_USERS[loser].ghes}`);
      expect(await replyTo(winner, added)).toContain(`Added <@${loserId}>`);
    }
  });

  it("the last admin cannot remove themself: refused, audited, still an admin", async () => {
    const { alice } = SANDBOX_USERS;
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${alice.slack}:${alice.ghes}` } });
    const lastSeq = await world.lastSeq();
    const since = world.mark();
    await world.command("alice", `admins remove <@${alice.slack}>`);
    expect(await replyTo("alice", since)).toContain(
      `<@${alice.slack}> is the last admin and cannot be removed: nobody could manage ghconnect afterwards.`,
    );
    expect(await world.bot.bot.store.admins.count()).toBe(1);
    const refused = (await world.auditSince(lastSeq)).filter((e) => e.action === "command.admins-remove");
    expect(refused.map((e) => [e.outcome, (e.details as { reason: string }).reason])).toEqual([
      ["refused", `<@${alice.slack}> is the last admin and cannot be removed: nobody could manage ghconnect afterwards.`],
    ]);
  });
});
