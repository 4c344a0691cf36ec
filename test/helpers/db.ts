// Test databases: a fresh SQLite file, or a fresh schema on the PostgreSQL of TEST_DATABASE_URL.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Db, openDatabase } from "../../src/db/database.js";

export type EngineName = "sqlite" | "postgres";

const pgUrl = process.env.TEST_DATABASE_URL;

/** The engines to run database tests on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const ENGINES: EngineName[] = pgUrl ? ["sqlite", "postgres"] : ["sqlite"];

if (!pgUrl && !process.env.__GHCONNECT_PG_NOTICE) {
  process.env.__GHCONNECT_PG_NOTICE = "1";
  console.warn("PostgreSQL tests SKIPPED: TEST_DATABASE_URL is not set (CI sets postgres://postgres@127.0.0.1:5432/test).");
}

export interface TestDb {
  db: Db;
  /** A DATABASE_URL another process can open to reach the same data. */
  url: string;
  schema?: string;
  cleanup(): Promise<void>;
}

export async function createTestDb(engine: EngineName): Promise<TestDb> {
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "ghconnect-test-"));
    const url = `sqlite:${join(dir, "ghconnect.db")}`;
    const db = await openDatabase(url);
    return {
      db,
      url,
      async cleanup() {
        await db.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!pgUrl) throw new Error("TEST_DATABASE_URL is not set");
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const db = await openDatabase(pgUrl, { schema });
  const url = `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    db,
    url,
    schema,
    async cleanup() {
      // The schema itself is dropped after the whole run (test/helpers/pg-global.ts).
      await db.close().catch(() => {});
    },
  };
}
