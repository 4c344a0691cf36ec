// Kysely over the `sqlite3` package. Kysely's own SqliteDialect expects better-sqlite3's
// synchronous API; this driver adapts sqlite3's callback API to Kysely's Driver interface.
// One connection, guarded by a mutex, like Kysely's own driver; transactions use
// BEGIN IMMEDIATE so two writers never deadlock on a lock upgrade.
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import sqlite3 from "sqlite3";

export interface Sqlite3DialectConfig {
  /** A file path or ":memory:". */
  filename: string;
  busyTimeoutMs?: number;
}

export class Sqlite3Dialect implements Dialect {
  constructor(private readonly config: Sqlite3DialectConfig) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new Sqlite3Driver(this.config);
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own signature uses any here.
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}

class Sqlite3Driver implements Driver {
  private db?: sqlite3.Database;
  private connection?: Sqlite3Connection;
  private readonly mutex = new Mutex();

  constructor(private readonly config: Sqlite3DialectConfig) {}

  async init(): Promise<void> {
    this.db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const db = new sqlite3.Database(this.config.filename, (err) => (err ? reject(err) : resolve(db)));
    });
    this.db.configure("busyTimeout", this.config.busyTimeoutMs ?? 5000);
    this.connection = new Sqlite3Connection(this.db);
    const pragmas = ["pragma foreign_keys = on", "pragma secure_delete = on", "pragma synchronous = normal"];
    if (this.config.filename !== ":memory:") pragmas.unshift("pragma journal_mode = wal");
    for (const pragma of pragmas) await this.connection.executeQuery(CompiledQuery.raw(pragma));
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    return this.connection as Sqlite3Connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(): Promise<void> {
    this.mutex.unlock();
  }
  async destroy(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    // Let the query in progress finish (briefly), then refuse new ones: SQLite will not close
    // while a prepared statement is alive.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.mutex.lock(), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    await this.connection?.finalizeAll();
    try {
      if (db) await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    } finally {
      // Whoever still waits for the connection gets "Database is closed", not a hang.
      this.mutex.unlock();
    }
  }
}

/** Prepared statements kept per connection (Kysely's SQL text repeats; parameters vary). */
const STATEMENT_CACHE_SIZE = 200;

class Sqlite3Connection implements DatabaseConnection {
  // Kysely's SQL text repeats, so each statement is prepared once per connection rather than for
  // every query under load; a prepared statement is reset and re-bound by sqlite3 on each run.
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();

  constructor(private readonly db: sqlite3.Database) {}

  private closed = false;

  private prepared(sql: string): Promise<sqlite3.Statement> {
    if (this.closed) return Promise.reject(new Error("SQLITE_MISUSE: Database is closed"));
    const cached = this.statements.get(sql);
    if (cached) {
      // Least recently used goes first: re-insert on every use.
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const statement = new Promise<sqlite3.Statement>((resolve, reject) => {
      const prepared = this.db.prepare(sql, (err) => (err ? reject(err) : resolve(prepared)));
    });
    this.statements.set(sql, statement);
    statement.catch(() => this.statements.delete(sql));
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const [oldest, evicted] = this.statements.entries().next().value as [string, Promise<sqlite3.Statement>];
      this.statements.delete(oldest);
      // sqlite3 queues the finalize behind any run still using the statement.
      evicted.then((s) => s.finalize()).catch(() => {});
    }
    return statement;
  }

  /** Finalizes every cached statement; SQLite will not close a database with live statements. */
  async finalizeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(all.map((p) => p.then((s) => new Promise<void>((resolve) => s.finalize(() => resolve()))).catch(() => {})));
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiled.parameters.map((p) => (typeof p === "boolean" ? Number(p) : p instanceof Date ? p.toISOString() : p));
    const returnsRows =
      compiled.query.kind === "SelectQueryNode" ||
      /^\s*(select|with|pragma|values)\b/i.test(compiled.sql) ||
      /\breturning\b/i.test(compiled.sql);
    const statement = await this.prepared(compiled.sql);
    return new Promise((resolve, reject) => {
      if (returnsRows) {
        statement.all(params, (err, rows) => (err ? reject(err) : resolve({ rows: rows as R[] })));
      } else {
        statement.run(params, function (this: sqlite3.RunResult, err) {
          if (err) return reject(err);
          resolve({ rows: [], numAffectedRows: BigInt(this.changes ?? 0), insertId: this.lastID ? BigInt(this.lastID) : undefined });
        });
      }
    });
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by ghconnect; refuse it loudly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming queries are not supported by the sqlite3 driver");
  }
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private release?: () => void;
  async lock(): Promise<void> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.release = release;
  }
  unlock(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
