// The database boundary: a database that is not there leaves db/ as core's DatabaseUnavailable
// (what the Slack and web layers check to say "the bot's database is unavailable"); a query's own
// fault stays the driver's error, so it is reported as a bug, not as an outage.
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseUnavailable } from "../../src/core/errors.js";
import { openDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

const clock = () => new Date("2026-11-25T10:00:00Z");

describe.each(ENGINES)("database failures (%s)", (engine) => {
  let t: TestDb | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("a closed database: reads and transactions are refused as DatabaseUnavailable", async () => {
    t = await createTestDb(engine);
    await migrateToLatest(t.db);
    const store = new Store(t.db, clock, new NoKeyBox());
    await t.db.close();
    await expect(store.connections.active()).rejects.toBeInstanceOf(DatabaseUnavailable);
    await expect(store.transaction((tx) => tx.operations.get("op-1"))).rejects.toBeInstanceOf(DatabaseUnavailable);
  });

  it("a query's own fault (a unique constraint) is the driver's error, not DatabaseUnavailable", async () => {
    t = await createTestDb(engine);
    await migrateToLatest(t.db);
    const row = { key_id: "key-a", activated_at: "2026-11-25T10:00:00Z", retired_at: null };
    await t.db.kysely.insertInto("encryption_keys").values(row).execute();
    const failure = await t.db.kysely
      .insertInto("encryption_keys")
      .values(row)
      .execute()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(DatabaseUnavailable);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("PostgreSQL that refuses the connection", () => {
  it("is DatabaseUnavailable, carrying the driver's own words (ECONNREFUSED)", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const db = await openDatabase(`postgres://u@127.0.0.1:${port}/db`);
    try {
      const store = new Store(db, clock, new NoKeyBox());
      const failure = await store.connections.active().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DatabaseUnavailable);
      expect((failure as Error).message).toContain("ECONNREFUSED");
    } finally {
      await db.close();
    }
  });
});
