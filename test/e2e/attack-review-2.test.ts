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
});
