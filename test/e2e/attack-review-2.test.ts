// Attack review 2: an outsider against the newest surfaces (person linking, native feature
// governance). Each test names the promise it breaks and fails on today's code.
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, type World } from "../helpers/world.js";

const { bob, mallory } = SANDBOX_USERS;

describe.each(ENGINES)("attack review 2 (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("a sign-in link is bound to the Slack user who asked: another person's browser completing it links nothing to the asker (login CSRF)", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_ADMINS: `${bob.slack}:bob` } });
    // mallory runs /ghconnect link and gets alice to open her GHES sign-in link (a chat message,
    // an <img>, a redirect): alice is signed in to GHES, the OAuth app is already authorized.
    await world.link("mallory", "ghes", "alice");
    // What happens today: 200 "You are alice on GHES." — alice's GHES login and token now belong
    // to mallory's Slack account (search runs as alice for her), and alice can no longer link it (409).
    expect(await world.bot.bot.store.links.all(mallory.slack)).toEqual([]);
    const own = await world.link("alice", "ghes");
    expect(own.text).toContain("You are alice on GHES.");
  });

  it("a flood of forged requests to the link callbacks does not grow the audit trail: refusals are coalesced like the other public pages", async () => {
    world = await startWorld(engine);
    const before = (await world.bot.bot.store.audit.latest(1))[0]?.seq ?? 0;
    // Anyone on the internet: no state, a forged state, twenty times each side.
    const hits = [];
    for (let i = 0; i < 20; i++) {
      hits.push(fetch(`${world.bot.url}/ghconnect/link/ghes/callback?code=x&state=forged${i}`));
      hits.push(fetch(`${world.bot.url}/ghconnect/link/github/callback`));
    }
    const answers = await Promise.all(hits);
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(400));
    // Today: 40 link.refused entries, one per request (the enable pages' RefusalLog keeps at most
    // one entry per page and reason a minute, with a count).
    const entries = (await world.bot.bot.store.audit.latest(100)).filter((e) => e.seq > before && e.action === "link.refused");
    // One entry per side and reason for the minute, carrying the count of 20.
    expect(entries).toHaveLength(2);
  });
});
