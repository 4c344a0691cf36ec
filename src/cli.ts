// `ghconnect` on the command line: for operators and auditors, who may have database access but
// no Slack. Only DATABASE_URL is needed for migrate and audit.
import "dotenv/config";
import { readFileSync } from "node:fs";
import { type AuditEntry, verifyChain } from "./core/audit.js";
import { systemClock } from "./core/clock.js";
import type { CheckResult } from "./core/preflight.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { NoKeyBox, SecretBox, WrongEncryptionKey } from "./db/secret-box.js";
import { Store } from "./db/store.js";

const USAGE = `usage: ghconnect <command>
  migrate                                   apply pending database migrations
  check                                     run every check of /ghconnect check from this terminal (needs the full configuration)
  rotate-key --new-key BASE64               re-encrypt every stored credential under a new key
                                            (GHCONNECT_ENCRYPTION_KEY is the current one); then set the new key everywhere
  audit verify [--file audit.jsonl]         recompute the audit hash chain (of the database, or of an export
                                            alone: a --since export is checked as a segment from its first entry)
  audit export [--since DATE] [--format jsonl]   write the audit log as JSON Lines to stdout

DATABASE_URL selects the database (default sqlite:./data/ghconnect.db).`;

function fail(message: string, code = 2): never {
  process.stderr.write(`ghconnect: ${message}\n`);
  process.exit(code);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (!value || value.startsWith("--")) fail(`${name} needs a value`);
  return value;
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const url = process.env.DATABASE_URL || "sqlite:./data/ghconnect.db";
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) fail("DATABASE_URL should be sqlite:PATH or postgres://…");
  const db = await openDatabase(url);
  try {
    return await fn(new Store(db, systemClock, new NoKeyBox()));
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === "migrate") {
    const applied = await withStore((store) => migrateToLatest(store.db));
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
    return;
  }
  if (command === "rotate-key") {
    const args = [sub, ...rest].filter((a): a is string => a !== undefined);
    const next = flag(args, "--new-key");
    const current = flag(args, "--old-key") ?? process.env.GHCONNECT_ENCRYPTION_KEY;
    const asKey = (name: string, v: string | undefined) => {
      const key = Buffer.from(v ?? "", "base64");
      if (!v || key.length !== 32) fail(`${name} should be 32 random bytes in base64 (openssl rand -base64 32)`);
      return new SecretBox(key);
    };
    const oldBox = asKey("GHCONNECT_ENCRYPTION_KEY (or --old-key)", current);
    const newBox = asKey("--new-key", next);
    if (oldBox.keyId === newBox.keyId) fail("the new key is the same as the current one");
    const url = process.env.DATABASE_URL || "sqlite:./data/ghconnect.db";
    const db = await openDatabase(url);
    try {
      const store = new Store(db, systemClock, oldBox);
      const n = await store.transaction(async (tx) => {
        const count = await tx.credentials.reencrypt(newBox);
        await tx.audit.append({
          actor: { slack: null },
          action: "key.rotated",
          outcome: "ok",
          details: { from_key_id: oldBox.keyId, to_key_id: newBox.keyId, credentials: count },
        });
        return count;
      });
      process.stdout.write(
        `re-encrypted ${n} credential${n === 1 ? "" : "s"} (key id ${oldBox.keyId} → ${newBox.keyId}). Now set GHCONNECT_ENCRYPTION_KEY to the new key on every replica and restart them.\n`,
      );
    } catch (error) {
      fail(
        error instanceof WrongEncryptionKey
          ? `the current key cannot read the stored credentials: ${error.message}`
          : (error as Error).message,
        1,
      );
    } finally {
      await db.close();
    }
    return;
  }
  if (command === "check") {
    await check();
    return;
  }
  if (command === "audit" && sub === "verify") {
    const file = flag(rest, "--file");
    const result = file ? verifyFile(file) : await withStore(async (store) => verifyChain(await collect(store.audit.all())));
    if (result.ok) {
      process.stdout.write(`${result.count} entries, chain intact (head ${result.head.slice(0, 12)})\n`);
      return;
    }
    process.stdout.write(`chain BROKEN at entry #${result.badSeq} (${result.badId}): ${result.reason}\n`);
    process.exit(1);
  }
  if (command === "audit" && sub === "export") {
    const format = flag(rest, "--format") ?? "jsonl";
    if (format !== "jsonl") fail("only --format jsonl is supported");
    const since = flag(rest, "--since");
    if (since && Number.isNaN(Date.parse(since))) fail(`--since ${since} is not a date (use e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
    await withStore(async (store) => {
      for await (const entry of store.audit.all({ since: since ? new Date(since).toISOString() : undefined })) {
        if (!process.stdout.write(`${JSON.stringify(entry)}\n`)) await new Promise((r) => process.stdout.once("drain", r));
      }
    });
    return;
  }
  if (!command || command === "help" || command === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  fail(`unknown command: ${argv.join(" ")}\n${USAGE}`);
}

/** The whole `check` run ends by then, whatever hangs: each check has its own, shorter, limit. */
const CHECK_RUN_DEADLINE_MS = 25_000;
const MARK: Record<CheckResult["status"], string> = { ok: "✓", warn: "!", fail: "✗", running: "…", skipped: "-" };

/** `ghconnect check`: one line per check as it finishes, with the fix for each failure. */
async function check(): Promise<void> {
  const { loadConfig, ConfigError } = await import("./config.js");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`${error.message}. See .env.example.`);
    throw error;
  }
  const deadline = setTimeout(() => {
    process.stdout.write(`✗ the checks did not finish within ${CHECK_RUN_DEADLINE_MS / 1000} s; the ones not listed above hung.\n`);
    process.exit(1);
  }, CHECK_RUN_DEADLINE_MS);
  deadline.unref();
  const { createGhconnect } = await import("./app.js");
  const { createLogger } = await import("./log.js");
  const { checksVerdict } = await import("./core/everyday.js");
  const { CHECK_TIMEOUT_MS } = await import("./core/preflight.js");
  process.stdout.write(`ghconnect check: each check gives up after ${CHECK_TIMEOUT_MS / 1000} s; nothing is changed.\n`);
  let app: Awaited<ReturnType<typeof createGhconnect>>;
  try {
    app = await createGhconnect({ config, log: createLogger("silent") });
  } catch (error) {
    process.stdout.write(`✗ Database: ${(error as Error).message} → check DATABASE_URL and that the database is up\n`);
    process.exit(1);
  }
  try {
    const results = await app.everyday.runChecks((r) => {
      process.stdout.write(`${MARK[r.status]} ${r.name}: ${r.detail}${r.advice && r.status !== "ok" ? ` → ${r.advice}` : ""}\n`);
    });
    process.stdout.write(`${checksVerdict(results)}. Nothing was changed.\n`);
    process.exitCode = results.some((r) => r.status === "fail") ? 1 : 0;
  } finally {
    await app.close();
  }
  // A request abandoned at its time limit may still hold a socket; the answer is complete.
  process.exit();
}

function verifyFile(file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
  const entries: AuditEntry[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      process.stdout.write(`line ${i + 1} of ${file} is not JSON: the export is damaged\n`);
      process.exit(1);
    }
  }
  const first = entries[0];
  // A segment (--since) starts after entry first.seq - 1, whose hash it names in prev_hash.
  return verifyChain(entries, first && first.seq > 1 ? { seq: first.seq - 1, hash: first.prev_hash } : undefined);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

main(process.argv.slice(2)).catch((error) => fail((error as Error).message, 1));
