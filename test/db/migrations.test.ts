import { randomBytes } from "node:crypto";
import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index.js";
import { verifyChain } from "../../src/core/audit.js";
import { openDatabase } from "../../src/db/database.js";
import { MIGRATION_NAMES, migrateToLatest } from "../../src/db/migrate.js";
import { SecretBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

/** The schema as the engine reports it: every column with its type and nullability, and every index. */
async function schemaOf(t: TestDb): Promise<string[]> {
  const tables = (await t.db.kysely.introspection.getTables()).filter(
    (table) => (t.schema === undefined || table.schema === t.schema) && !table.name.startsWith("kysely_"),
  );
  const columns = tables.flatMap((table) =>
    table.columns.map((c) => `column ${table.name}.${c.name} ${c.dataType}${c.isNullable ? "" : " not null"}`),
  );
  const indexes =
    t.schema === undefined
      ? await sql<{ name: string; tbl: string }>`select name, tbl_name as tbl from sqlite_master where type = 'index'`.execute(t.db.kysely)
      : await sql<{
          name: string;
          tbl: string;
        }>`select indexname as name, tablename as tbl from pg_indexes where schemaname = ${t.schema}`.execute(t.db.kysely);
  return [...columns, ...indexes.rows.filter((i) => !i.tbl.startsWith("kysely_")).map((i) => `index ${i.tbl}.${i.name}`)].sort();
}

/** A migrator over the app's own migrations, to move one step or to a named one (the app only goes to the latest). */
function stepByStep(t: TestDb): Migrator {
  return new Migrator({ db: t.db.kysely, provider: { getMigrations: async () => migrations }, migrationTableSchema: t.db.schema });
}

describe.each(ENGINES)("migrations (%s)", (engine) => {
  it("apply from empty, then again without error or change", async () => {
    const t = await createTestDb(engine);
    try {
      const first = await migrateToLatest(t.db);
      expect(first).toContain("0001_initial");
      expect(await migrateToLatest(t.db)).toEqual([]);
      for (const table of [
        "admins",
        "connections",
        "credentials",
        "operations",
        "approvals",
        "oauth_states",
        "features",
        "audit_log",
        "slack_events",
      ]) {
        const rows = await sql`select count(*) as n from ${sql.table(table)}`.execute(t.db.kysely);
        expect(Number((rows.rows[0] as { n: number }).n)).toBe(0);
      }
    } finally {
      await t.cleanup();
    }
  });

  it("go down one at a time to nothing, each leaving the schema of the one below, and up again", async () => {
    const t = await createTestDb(engine);
    try {
      const migrator = stepByStep(t);
      const after: string[][] = [await schemaOf(t)];
      expect(after[0]).toEqual([]);
      for (const name of MIGRATION_NAMES) {
        const { error, results } = await migrator.migrateUp();
        expect(error).toBeUndefined();
        expect(results).toEqual([{ migrationName: name, direction: "Up", status: "Success" }]);
        const schema = await schemaOf(t);
        expect(schema).not.toEqual(after.at(-1)); // each migration changes something the check sees
        after.push(schema);
      }
      for (let step = MIGRATION_NAMES.length; step > 0; step--) {
        const { error, results } = await migrator.migrateDown();
        expect(error).toBeUndefined();
        expect(results).toEqual([{ migrationName: MIGRATION_NAMES[step - 1], direction: "Down", status: "Success" }]);
        expect(await schemaOf(t)).toEqual(after[step - 1]);
      }
      expect(await migrateToLatest(t.db)).toEqual(MIGRATION_NAMES);
      expect(await schemaOf(t)).toEqual(after.at(-1));
    } finally {
      await t.cleanup();
    }
  });

  it("0005 (lean audit writes) keeps the audit chain and the Slack deliveries already recorded", async () => {
    const t = await createTestDb(engine);
    try {
      const migrator = stepByStep(t);
      const { error } = await migrator.migrateTo("0004_refusal_tallies");
      expect(error).toBeUndefined();
      const store = new Store(t.db, () => new Date("2026-01-01T00:00:00Z"), new SecretBox(randomBytes(32)));
      for (let i = 0; i < 3; i++)
        await store.auditOnce(
          { deliveryId: `command:T${i}`, kind: "command" },
          { actor: { slack: "U1" }, action: "command.help", outcome: "ok" },
        );
      expect(await migrateToLatest(t.db)).toEqual(MIGRATION_NAMES.slice(MIGRATION_NAMES.indexOf("0005_lean_audit_writes")));
      const entries = [];
      for await (const entry of store.audit.all()) entries.push(entry);
      expect(verifyChain(entries)).toMatchObject({ ok: true, count: 3 });
      // Slack's retry of a delivery recorded before the migration is still recognised.
      expect(
        await store.auditOnce(
          { deliveryId: "command:T1", kind: "command" },
          { actor: { slack: "U1" }, action: "command.help", outcome: "ok" },
        ),
      ).toBeUndefined();
      expect(await store.firstDelivery("command:T2", "command")).toBe(false);
      expect(await store.firstDelivery("command:T3", "command")).toBe(true);
      // The chain still cannot fork: a second entry with a taken seq is refused.
      const [last] = await store.audit.latest(1);
      await expect(
        t.db.kysely
          .insertInto("audit_log")
          .values({ ...(last as NonNullable<typeof last>), details: "{}" })
          .execute(),
      ).rejects.toThrow(
        engine === "sqlite" ? /UNIQUE constraint failed: audit_log\.seq/ : /duplicate key value violates unique constraint/,
      );
    } finally {
      await t.cleanup();
    }
  });

  it("allow only one active connection and one operation in flight", async () => {
    const t = await createTestDb(engine);
    try {
      await migrateToLatest(t.db);
      const op = (id: string) => ({
        id,
        kind: "enable" as const,
        account_login: "acme",
        status: "preflight",
        requested_by_slack: "U1",
        created_at: "2026-01-01T00:00:00Z",
        updated_at: "2026-01-01T00:00:00Z",
        expires_at: "2026-01-01T00:15:00Z",
        in_flight: 1,
      });
      await t.db.kysely.insertInto("operations").values(op("a")).execute();
      await expect(t.db.kysely.insertInto("operations").values(op("b")).execute()).rejects.toThrow(
        engine === "sqlite"
          ? "UNIQUE constraint failed: operations.in_flight"
          : 'duplicate key value violates unique constraint "operations_one_in_flight"',
      );
      await t.db.kysely
        .insertInto("operations")
        .values({ ...op("c"), in_flight: null })
        .execute();
    } finally {
      await t.cleanup();
    }
  });
});

describe("the migration index", () => {
  it("lists every migration file in migrations/", async () => {
    const { readdirSync } = await import("node:fs");
    const { MIGRATION_NAMES } = await import("../../src/db/migrate.js");
    const files = readdirSync("migrations")
      .filter((f) => /^\d{4}_.+\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ""));
    expect(MIGRATION_NAMES).toEqual(files.sort());
  });
});

// PostgreSQL only: SQLite has one schema per file.
it.runIf(ENGINES.includes("postgres"))(
  "reads only its own schema's catalog: another schema's tables (even Kysely's own) are neither listed nor taken for ours",
  async () => {
    const t = await createTestDb("postgres");
    const other = await createTestDb("postgres");
    try {
      await migrateToLatest(other.db);
      await sql`create table ${sql.table("stray")} (id int)`.execute(other.db.kysely);
      expect((await t.db.kysely.introspection.getTables({ withInternalKyselyTables: true })).map((x) => x.name)).toEqual([]);
      expect(await migrateToLatest(t.db)).toEqual(MIGRATION_NAMES);
      const tables = await t.db.kysely.introspection.getTables();
      expect(new Set(tables.map((x) => x.schema))).toEqual(new Set([t.schema]));
      expect(tables.map((x) => x.name)).not.toContain("stray");
      expect(tables.map((x) => x.name)).not.toContain("kysely_migration");
      const admins = tables.find((x) => x.name === "admins");
      expect(admins?.columns.find((c) => c.name === "slack_user_id")).toMatchObject({ isNullable: false });
    } finally {
      await other.cleanup();
      await t.cleanup();
    }
  },
);

// PostgreSQL only. ghconnect's schema is the connection's current_schema(): the first schema of
// search_path that exists, as it was before introspection read that schema alone.
it.runIf(ENGINES.includes("postgres"))(
  "a search_path naming a schema that does not exist yet migrates into the next one that does, once; naming only a missing one fails start-up by name",
  async () => {
    const t = await createTestDb("postgres");
    const missing = `missing_${randomBytes(6).toString("hex")}`;
    const url = process.env.TEST_DATABASE_URL as string;
    const first = await openDatabase(url, { schema: `${missing},${t.schema}` });
    const again = await openDatabase(url, { schema: `${missing},${t.schema}` });
    const nowhere = await openDatabase(url, { schema: missing });
    try {
      expect(first.schema).toBe(t.schema);
      expect(await migrateToLatest(first)).toEqual(MIGRATION_NAMES);
      expect(await migrateToLatest(again)).toEqual([]);
      const tables = await t.db.kysely.introspection.getTables();
      expect(tables.map((x) => x.name)).toContain("admins");
      expect(nowhere.schema).toBeUndefined();
      await expect(migrateToLatest(nowhere)).rejects.toThrow(/no schema has been selected to create in/);
    } finally {
      await Promise.all([first.close(), again.close(), nowhere.close()]);
      await t.cleanup();
    }
  },
);
