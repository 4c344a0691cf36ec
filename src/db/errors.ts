// The database boundary for failures: a driver error that means "the database is not there" (as
// opposed to a bug in a query) leaves db/ as core's DatabaseUnavailable, so the Slack and web
// layers tell the user the bot's database is unavailable by checking that type, and nothing
// outside db/ knows what sqlite3 or pg errors look like. Every query, transaction and connection
// goes through the driver, so wrapping the driver is the one place this is decided.
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryCompiler, QueryResult, TransactionSettings } from "kysely";
import { DatabaseUnavailable } from "../core/errors.js";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02",
  "57P03", // cannot_connect_now
  "08000",
  "08001",
  "08003",
  "08006",
  "SQLITE_CANTOPEN",
  "SQLITE_BUSY",
  "SQLITE_IOERR",
  "SQLITE_READONLY",
  "SQLITE_MISUSE",
]);

/** pg's and the pool's own wording for a connection that is gone or never came. */
const CONNECTION_MESSAGES =
  /(Connection terminated|timeout exceeded when trying to connect|Database is closed|driver has already been destroyed)/i;

function meansUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: string; message?: string; cause?: unknown };
    if (e.code && CONNECTION_CODES.has(e.code)) return true;
    if (typeof e.message === "string" && CONNECTION_MESSAGES.test(e.message)) return true;
    current = e.cause;
  }
  return false;
}

/** The error as the rest of the app should see it: DatabaseUnavailable, or the driver's own error (a query's fault). */
export function translateDriverError(error: unknown): unknown {
  return error instanceof DatabaseUnavailable || !meansUnavailable(error) ? error : new DatabaseUnavailable(error);
}

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateDriverError(error);
  }
}

/** A connection whose queries report an unreachable database as DatabaseUnavailable. */
class TranslatingConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}
  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return translated(() => this.inner.executeQuery<R>(compiled));
  }
  async *streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiled, chunkSize);
    } catch (error) {
      throw translateDriverError(error);
    }
  }
}

const innerOf = (connection: DatabaseConnection) => (connection as TranslatingConnection).inner;

/**
 * The driver, translated. `close()` is how the database is closed (rather than Kysely's
 * `destroy()`): Kysely refuses work after its own destroy with a plain Error, before the driver is
 * asked; closed here, later work is refused by this driver, as DatabaseUnavailable.
 */
class TranslatingDriver implements Driver {
  private closed = false;
  private initializing?: Promise<void>;
  savepoint?: Driver["savepoint"];
  rollbackToSavepoint?: Driver["rollbackToSavepoint"];
  releaseSavepoint?: Driver["releaseSavepoint"];

  constructor(private readonly inner: Driver) {
    for (const name of ["savepoint", "rollbackToSavepoint", "releaseSavepoint"] as const) {
      const method = inner[name];
      if (method)
        this[name] = (connection: DatabaseConnection, savepointName: string, compile: QueryCompiler["compileQuery"]) =>
          translated(() => method.call(inner, innerOf(connection), savepointName, compile));
    }
  }

  private refuseIfClosed(): void {
    if (this.closed) throw new DatabaseUnavailable(new Error("the database connection is closed"));
  }

  init(): Promise<void> {
    this.refuseIfClosed();
    this.initializing = translated(() => this.inner.init());
    return this.initializing;
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    this.refuseIfClosed();
    return new TranslatingConnection(await translated(() => this.inner.acquireConnection()));
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return translated(() => this.inner.beginTransaction(innerOf(connection), settings));
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.commitTransaction(innerOf(connection)));
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.rollbackTransaction(innerOf(connection)));
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.releaseConnection(innerOf(connection)));
  }
  async destroy(): Promise<void> {
    await this.close();
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.initializing?.catch(() => undefined);
    await this.inner.destroy();
  }
}

/** `dialect` with its driver translated; `close()` closes the database (see TranslatingDriver). */
export function translatingDialect(dialect: Dialect): { dialect: Dialect; close(): Promise<void> } {
  let driver: TranslatingDriver | undefined;
  return {
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createDriver: () => {
        driver = new TranslatingDriver(dialect.createDriver());
        return driver;
      },
    },
    close: async () => driver?.close(),
  };
}
