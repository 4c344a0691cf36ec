// Linked accounts' user tokens at rest: sealed like credentials, bound to the person, the side and
// the row (a token copied into another person's row does not open), and carried across a key
// rotation by `ghconnect rotate-key`.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { PersonLink } from "../../src/core/identity.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { CredentialTampered, keyId, SecretBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

const clock = () => new Date("2026-11-29T12:00:00Z");
const link = (slackUserId: string, login: string, token: string): PersonLink => ({
  slackUserId,
  side: "github",
  login,
  connectionId: "conn-a",
  token,
  refreshToken: `ghr_${login}`,
  expiresAt: "2026-11-29T20:00:00.000Z",
  refreshTokenExpiresAt: "2027-05-29T12:00:00.000Z",
  status: "active",
  linkedAt: clock().toISOString(),
});

describe.each(ENGINES)("linked accounts at rest (%s)", (engine) => {
  let t: TestDb;
  afterEach(async () => {
    await t?.cleanup();
  });

  it("a token copied into another person's row does not open, and the error names the row, not the token", async () => {
    t = await createTestDb(engine);
    await migrateToLatest(t.db);
    const store = new Store(t.db, clock, new SecretBox(randomBytes(32)));
    await store.links.put(link("U0ALICE001", "octocat", "ghu_alice_secret"));
    await store.links.put(link("U0MALLORY1", "ghost", "ghu_mallory"));
    const rows = await t.db.kysely.selectFrom("person_links").selectAll().orderBy("login").execute();
    const [ghost, octocat] = rows;
    await t.db.kysely
      .updateTable("person_links")
      .set({ token_ciphertext: octocat?.token_ciphertext })
      .where("id", "=", ghost?.id as string)
      .execute();
    const read = store.links.get("U0MALLORY1", "github");
    await expect(read).rejects.toThrow(CredentialTampered);
    await expect(read).rejects.toThrow("the stored github link token of U0MALLORY1 failed its integrity check (the tag does not match)");
  });
});

describe("rotate-key carries linked accounts", () => {
  let t: TestDb;
  afterEach(async () => {
    await t?.cleanup();
  });

  it("re-seals every link under the new key; they open with the new key alone", async () => {
    t = await createTestDb("sqlite");
    await migrateToLatest(t.db);
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    await new Store(t.db, clock, new SecretBox(oldKey)).links.put(link("U0CAROL001", "monalisa", "ghu_carol"));
    const rotate = spawnSync(process.execPath, ["bin/ghconnect.js", "rotate-key"], {
      env: {
        PATH: process.env.PATH ?? "",
        DOTENV_CONFIG_PATH: "/nonexistent",
        DATABASE_URL: t.url,
        GHCONNECT_ENCRYPTION_KEY: oldKey.toString("base64"),
        GHCONNECT_NEW_ENCRYPTION_KEY: newKey.toString("base64"),
      },
      encoding: "utf8",
    });
    expect(rotate.stderr).toBe("");
    expect(rotate.status).toBe(0);
    const after = new Store(t.db, clock, new SecretBox(newKey));
    const carol = await after.links.get("U0CAROL001", "github");
    expect([carol?.token, carol?.refreshToken]).toEqual(["ghu_carol", "ghr_monalisa"]);
    expect(await after.links.keyIds()).toEqual([keyId(newKey)]);
  });
});
