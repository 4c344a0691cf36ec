// GHCONNECT_ADMINS seeds an empty roster once. Replicas started together (a deployment of two or
// more) must not each find it empty and each seed and audit it.
import { describe, expect, it } from "vitest";
import { seedAdminRoster } from "../../src/core/roster.js";
import { openDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES } from "../helpers/db.js";

const clock = () => new Date("2026-11-25T10:00:00Z");
const bootstrap = [
  { slackUserId: "U0ALICE001", ghesLogin: "alice" },
  { slackUserId: "U0BOB00001", ghesLogin: "bob" },
];

describe.each(ENGINES)("admin roster bootstrap (%s)", (engine) => {
  it("four replicas starting at once seed the roster once, with one audit entry", async () => {
    const t = await createTestDb(engine);
    const others = await Promise.all([1, 2, 3].map(() => openDatabase(t.url, { schema: t.schema })));
    try {
      await migrateToLatest(t.db);
      const stores = [t.db, ...others].map((db) => new Store(db, clock, new NoKeyBox()));
      const seeded = await Promise.all(stores.map((store) => seedAdminRoster(store, bootstrap)));
      expect(seeded.sort()).toEqual([0, 0, 0, 2]);
      const store = stores[0] as Store;
      expect((await store.admins.list()).map((a) => `${a.slackUserId}:${a.ghesLogin}`)).toEqual(["U0ALICE001:alice", "U0BOB00001:bob"]);
      const entries = (await store.audit.latest(50)).filter((e) => e.action === "admins.bootstrap");
      expect(entries).toHaveLength(1);
      expect(entries[0]?.details).toEqual({ source: "GHCONNECT_ADMINS", admins: ["U0ALICE001:alice", "U0BOB00001:bob"] });
      // A restart later finds the roster in place and changes nothing.
      expect(await seedAdminRoster(store, [{ slackUserId: "U0CAROL001", ghesLogin: "carol" }])).toBe(0);
      expect(await store.admins.count()).toBe(2);
    } finally {
      await Promise.all(others.map((db) => db.close()));
      await t.cleanup();
    }
  });
});
