// What `ghconnect check` says about the database and the encryption key, reading only. The bot
// migrates, records its key as the active one and seeds the roster at start-up; a check that did
// the same would change the very state it reports on (and a trial run would pin a key for good).
import { existsSync } from "node:fs";
import { Migrator } from "kysely";
import { migrations } from "../../migrations/index.js";
import type { CheckResult } from "../core/preflight.js";
import { type Db, openDatabase } from "./database.js";
import { type SecretBox, WrongEncryptionKey } from "./secret-box.js";
import type { Store } from "./store.js";

const CREATES_IT = "`npm start` or `npx ghconnect migrate` creates it.";

/**
 * Opens DATABASE_URL without creating anything: a SQLite file that does not exist yet is left
 * absent (an empty in-memory database stands in, so the other checks still run).
 */
export async function openForInspection(url: string): Promise<{ db: Db; absent?: string }> {
  if (url.startsWith("sqlite:")) {
    const filename = url.slice("sqlite:".length);
    if (filename !== ":memory:" && !existsSync(filename)) return { db: await openDatabase("sqlite::memory:"), absent: filename };
  }
  return { db: await openDatabase(url) };
}

export interface StorageInspection {
  db: Db;
  url: string;
  absent?: string;
  box: SecretBox;
  store: Store;
}

/** The "Database" and "Encryption key" lines of `check`. */
export async function inspectStorage({ db, url, absent, box, store }: StorageInspection): Promise<CheckResult[]> {
  const keyLine = (status: CheckResult["status"], detail: string, advice?: string): CheckResult => ({
    name: "Encryption key",
    status,
    detail,
    ...(advice ? { advice } : {}),
  });
  const firstStart = keyLine("ok", `GHCONNECT_ENCRYPTION_KEY has id ${box.keyId}; the first start records it as the active key`);
  if (absent)
    return [{ name: "Database", status: "warn", detail: `not initialised yet: ${absent} does not exist`, advice: CREATES_IT }, firstStart];
  let pending: string[];
  try {
    const migrator = new Migrator({ db: db.kysely, provider: { getMigrations: async () => migrations }, migrationTableSchema: db.schema });
    pending = (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
  } catch (error) {
    return [
      {
        name: "Database",
        status: "fail",
        detail: `cannot read it: ${(error as Error).message}`,
        advice: "Check DATABASE_URL and that the database is up.",
      },
      keyLine("skipped", "not checked: the database could not be read"),
    ];
  }
  if (pending.length === Object.keys(migrations).length)
    return [
      { name: "Database", status: "warn", detail: `not initialised yet: ${db.engine} answers, no tables`, advice: CREATES_IT },
      firstStart,
    ];
  if (pending.length)
    return [
      {
        name: "Database",
        status: "warn",
        detail: `${db.engine} answers; ${pending.length} migration${pending.length > 1 ? "s" : ""} not applied yet (${pending.join(", ")})`,
        advice: "`npm start` or `npx ghconnect migrate` applies them.",
      },
      firstStart,
    ];
  const database: CheckResult = { name: "Database", status: "ok", detail: `${db.engine} answers` };
  const keys = store.encryptionKeys;
  try {
    const stored = await store.credentials.keyIds();
    const active = await keys.assess(box, stored);
    return [database, active ? keyLine("ok", `id ${active.keyId} is the active key (since ${active.since})`) : firstStart];
  } catch (error) {
    if (!(error instanceof WrongEncryptionKey)) throw error;
    const active = await keys.active();
    // The first sentence says what is wrong; a "Set …" sentence that follows is the fix.
    const [detail, fix] = error.message.split(/(?<=\.) (?=Set )/);
    const trial = url.startsWith("sqlite:") ? `delete ${url.slice("sqlite:".length)}` : "point DATABASE_URL at a new, empty database";
    const advice = `${fix ?? (active ? `Set GHCONNECT_ENCRYPTION_KEY to the key with id ${active.keyId}.` : "")} That key is the one you stored when ghconnect first started (README "Rotating the key"); on a throw-away trial database you may instead ${trial}, losing what it stored.`;
    return [database, keyLine("fail", (detail ?? error.message).replace(/\.$/, ""), advice.trim())];
  }
}
