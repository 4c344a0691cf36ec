// Opens the database named by DATABASE_URL: sqlite:PATH, sqlite::memory: or postgres://…
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type DatabaseIntrospector, Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { DatabaseHealth } from "../core/ports.js";
import { translatingDialect } from "./errors.js";
import { CurrentSchemaIntrospector } from "./pg-introspector.js";
import type { Database } from "./schema.js";
import { Sqlite3Dialect } from "./sqlite-dialect.js";

export type Engine = "sqlite" | "postgres";

/** Failures that mean "the database is not there" are thrown as core's DatabaseUnavailable (db/errors.ts). */
export interface Db {
  kysely: Kysely<Database>;
  engine: Engine;
  /** The DATABASE_URL it was opened from (a second connection, the recording thread's, opens it again). */
  url: string;
  /** PostgreSQL: the schema ghconnect's tables live in (the connection's current_schema()). */
  schema?: string;
  close(): Promise<void>;
}

/** PostgreSQL whose introspection (and so the migrator's) reads ghconnect's schema alone. */
class CurrentSchemaPostgresDialect extends PostgresDialect {
  // biome-ignore lint/suspicious/noExplicitAny: the dialect's own signature.
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db, super.createIntrospector(db));
  }
}

/** Opens (but does not migrate) the database. */
export async function openDatabase(url: string, options: { schema?: string; poolMax?: number } = {}): Promise<Db> {
  if (url.startsWith("sqlite:")) {
    const filename = url.slice("sqlite:".length);
    if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
    const translating = translatingDialect(new Sqlite3Dialect({ filename }));
    const kysely = new Kysely<Database>({ dialect: translating.dialect });
    // Forces the driver to open now, so a bad path fails at start-up, not at the first command.
    await sql`select 1`.execute(kysely);
    return { kysely, engine: "sqlite", url, close: translating.close };
  }
  // pg returns int8/numeric as strings; our integers fit in int4, so nothing to convert.
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5000,
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
  });
  // A client losing its server must not crash the process; the next query reports it. The pool's
  // own "error" event covers idle clients only: a client checked out between two statements of a
  // transaction emits "error" on itself, with no listener unless it has one from the start.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const translating = translatingDialect(new CurrentSchemaPostgresDialect({ pool }));
  const kysely = new Kysely<Database>({ dialect: translating.dialect });
  const db: Db = { kysely, engine: "postgres", url, close: translating.close };
  try {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(kysely);
    db.schema = rows[0]?.schema ?? undefined;
  } catch {
    // The database is down at start-up; migrations will report it.
  }
  return db;
}

/** The database as /healthz sees it: it answers a trivial query, or it does not. */
export function databaseHealth(db: Db): DatabaseHealth {
  return {
    engine: db.engine,
    async ping() {
      try {
        await sql`select 1`.execute(db.kysely);
        return true;
      } catch {
        return false;
      }
    },
  };
}
