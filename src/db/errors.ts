// Recognises "the database is not there" (as opposed to a bug in a query), so the user is told
// the bot's database is unavailable rather than that something went wrong.
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

export function isDatabaseError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailable) return true;
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: string; message?: string; cause?: unknown };
    if (e.code && CONNECTION_CODES.has(e.code)) return true;
    if (
      typeof e.message === "string" &&
      /(Connection terminated|timeout exceeded when trying to connect|Database is closed|driver has already been destroyed)/i.test(
        e.message,
      )
    )
      return true;
    current = e.cause;
  }
  return false;
}
