// `ghconnect` on the command line: for operators and auditors, who may have database access but
// no Slack. migrate and audit need DATABASE_URL; audit export also the key it signs with, and
// audit verify reads the admin channel when the Slack settings are set (cli-audit.ts).
import "dotenv/config";
import { AUDIT_USAGE, auditCli } from "./cli-audit.js";
import { systemClock } from "./core/clock.js";
import type { CheckResult } from "./core/preflight.js";
import { openDatabase } from "./db/database.js";
import type { ActiveKey } from "./db/encryption-keys-repo.js";
import { migrateToLatest } from "./db/migrate.js";
import { CredentialTampered, keyId, NoKeyBox, SecretBox, WrongEncryptionKey } from "./db/secret-box.js";
import { Store } from "./db/store.js";

const USAGE = `usage: ghconnect <command>
  migrate                                   apply pending database migrations
  check                                     run every check of /ghconnect check from this terminal (needs the full configuration);
                                            changes nothing: creates no database, records no key (plus an Encryption key line)
  rotate-key                                re-encrypt every stored credential under a new key and make it the active one:
                                            the new key from GHCONNECT_NEW_ENCRYPTION_KEY or stdin (never the command line),
                                            the current one in GHCONNECT_ENCRYPTION_KEY (README "Rotating the key")
${AUDIT_USAGE}

DATABASE_URL selects the database (default sqlite:./data/ghconnect.db).
Exit codes: 0 done, 1 the command failed (e.g. a broken chain), 2 a usage or configuration error.`;

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
    const applied = await withStore((store) => migrateToLatest(store.db)).catch((error: unknown) => {
      // The database cannot be reached (or refused us): say which setting points at it.
      const url = process.env.DATABASE_URL || "sqlite:./data/ghconnect.db";
      const where = url.startsWith("sqlite:") ? url : safeDatabaseTarget(url);
      fail(
        `migrate: cannot use the database at ${where} (${(error as Error).message.replace(/^migration \(setup\) failed: /, "")}): check DATABASE_URL and that the database is up.`,
        1,
      );
    });
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
    return;
  }
  if (command === "rotate-key") {
    await rotateKey([sub, ...rest].filter((a): a is string => a !== undefined));
    return;
  }
  if (command === "check") {
    await check();
    return;
  }
  if (command === "audit") {
    process.exitCode = await auditCli(sub, rest, { env: process.env, fail, flag, withStore, out: writeOut });
    return;
  }
  if (command === "help" || command === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // No command is a usage error (exit 2, like an unknown one): a script calling `ghconnect` bare
  // must not pass for a successful run.
  if (!command) fail(`no command given\n${USAGE}`);
  fail(`unknown command: ${argv.join(" ")}\n${USAGE}`);
}

/** The whole `check` run ends by then, whatever hangs: each check has its own, shorter, limit. */
const CHECK_RUN_DEADLINE_MS = 25_000;
const MARK: Record<CheckResult["status"], string> = { ok: "✓", warn: "!", fail: "✗", running: "…", skipped: "-" };

/** `ghconnect check`: one line per check as it finishes, with the fix for each failure. */
async function check(): Promise<void> {
  const { loadConfig, ConfigError, configErrorText } = await import("./config.js");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${configErrorText(error, "ghconnect: ")}\n`);
      process.exit(2);
    }
    throw error;
  }
  const deadline = setTimeout(() => {
    process.stdout.write(`✗ the checks did not finish within ${CHECK_RUN_DEADLINE_MS / 1000} s; the ones not listed above hung.\n`);
    process.exit(1);
  }, CHECK_RUN_DEADLINE_MS);
  deadline.unref();
  const { createGhconnect } = await import("./app.js");
  const { createLogger } = await import("./log.js");
  const { checksVerdict } = await import("./core/checks.js");
  const { CHECK_TIMEOUT_MS } = await import("./core/preflight.js");
  process.stdout.write(`ghconnect check: each check gives up after ${CHECK_TIMEOUT_MS / 1000} s; nothing is changed.\n`);
  let app: Awaited<ReturnType<typeof createGhconnect>>;
  try {
    app = await createGhconnect({ config, log: createLogger("silent"), inspectOnly: true });
  } catch (error) {
    process.stdout.write(`✗ Database: ${(error as Error).message} → Check DATABASE_URL and that the database is up.\n`);
    process.exit(1);
  }
  try {
    const results = await app.checks.runChecks((r) => {
      const line = `${MARK[r.status]} ${r.name}: ${r.detail}${r.advice && r.status !== "ok" ? ` → ${r.advice}` : ""}`;
      // Slack's channel references read as #C0123ABCD in a terminal.
      process.stdout.write(`${line.replace(/<#([A-Z0-9]+)>/g, "#$1")}\n`);
    });
    process.stdout.write(`${checksVerdict(results)}. Nothing was changed.\n`);
    process.exitCode = results.some((r) => r.status === "fail") ? 1 : 0;
  } finally {
    await app.close();
  }
  // A request abandoned at its time limit may still hold a socket; the answer is complete.
  process.exit();
}

/**
 * How to make a new key without losing it: a key piped straight into rotate-key is never saved,
 * and the credentials would then be encrypted under a key nobody has.
 */
const KEEP_NEW_KEY =
  'NEW=$(openssl rand -base64 32); echo "$NEW" > new.key (then store it in your secrets manager and delete the file); GHCONNECT_NEW_ENCRYPTION_KEY="$NEW" npx ghconnect rotate-key';

/**
 * Re-encrypts every credential under the new key and records it as the active key, in one
 * transaction. Keys never come from argv: arguments are visible to every local user (`ps`) and kept
 * in shell history.
 */
async function rotateKey(args: string[]): Promise<void> {
  const onArgv = args.find((a) => /^--(new|old)-key(=|$)/.test(a));
  if (onArgv)
    fail(
      `rotate-key does not take a key on the command line (${onArgv.split("=")[0]}): arguments are visible to every user of this machine in \`ps\` and stay in shell history. Generate the new key, keep it, then pass it in the environment: ${KEEP_NEW_KEY} (README "Rotating the key"); the current key stays in GHCONNECT_ENCRYPTION_KEY.`,
    );
  const unknown = args.find((a) => a !== "--new-key-stdin");
  if (unknown) fail(`rotate-key does not know ${unknown}\n${USAGE}`);
  const asKey = (name: string, value: string) => {
    const key = Buffer.from(value, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || key.length !== 32)
      fail(`${name} should be 32 random bytes in base64 (openssl rand -base64 32)`);
    return key;
  };
  const env = process.env;
  if (!env.GHCONNECT_ENCRYPTION_KEY?.trim())
    fail("rotate-key needs the current key in GHCONNECT_ENCRYPTION_KEY (the key the stored credentials are encrypted with)");
  const current = asKey("GHCONNECT_ENCRYPTION_KEY", env.GHCONNECT_ENCRYPTION_KEY.trim());
  const previousText = env.GHCONNECT_PREVIOUS_ENCRYPTION_KEY?.trim();
  const previous = previousText ? asKey("GHCONNECT_PREVIOUS_ENCRYPTION_KEY", previousText) : undefined;
  let nextText = env.GHCONNECT_NEW_ENCRYPTION_KEY?.trim();
  let source = "GHCONNECT_NEW_ENCRYPTION_KEY";
  if (!nextText && (args.includes("--new-key-stdin") || !process.stdin.isTTY)) {
    nextText = (await readStdin()).trim();
    source = "the new key on stdin";
  }
  if (!nextText)
    fail(
      `rotate-key needs the new key in GHCONNECT_NEW_ENCRYPTION_KEY or on stdin, kept before it is used (every replica needs it): ${KEEP_NEW_KEY}`,
    );
  const next = asKey(source, nextText);
  const nextId = keyId(next);
  if (nextId === keyId(current) && !previous)
    fail("the new key is the same as GHCONNECT_ENCRYPTION_KEY: generate another one (openssl rand -base64 32)");
  // Reads with any key given (a re-run after a rotation finds the rows under the new key); writes with the new one.
  const box = new SecretBox(current, ...(previous ? [previous] : []), next);
  const url = env.DATABASE_URL || "sqlite:./data/ghconnect.db";
  const db = await openDatabase(url);
  try {
    await migrateToLatest(db);
    const store = new Store(db, systemClock, box);
    const given = { given_key_ids: [keyId(current), ...(previous ? [keyId(previous)] : [])].join(", ") };
    type Outcome = { refused: ActiveKey } | { refused?: undefined; from: string; count: number; upgraded: number };
    const rotation = store.transaction(async (tx): Promise<Outcome> => {
      const stored = [...new Set([...(await tx.credentials.keyIds()), ...(await tx.links.keyIds())])];
      const active =
        (await tx.encryptionKeys.active({ lock: true })) ?? (await tx.encryptionKeys.recordIfNone(stored[0] ?? keyId(current)));
      if (!box.holds(active.keyId)) return { refused: active };
      const { count, upgraded } = await tx.credentials.reencryptAll(nextId);
      const links = await tx.links.reencryptAll(nextId);
      await tx.encryptionKeys.activate(nextId);
      await tx.audit.append({
        actor: { slack: null },
        action: "key.rotated",
        outcome: "ok",
        details: { from_key_id: active.keyId, to_key_id: nextId, credentials: count, upgraded_from_v1: upgraded, linked_accounts: links },
      });
      return { from: active.keyId, count, upgraded };
    });
    // A row that does not open (altered, or under a key nobody gave) rolls the whole rotation back.
    const outcome = await rotation.catch((error: unknown) => {
      if (error instanceof WrongEncryptionKey || error instanceof CredentialTampered)
        fail(`rotate-key: ${error.message.replace(/\.$/, "")}; nothing was changed.`, 1);
      throw error;
    });
    if (outcome.refused) {
      const active = outcome.refused;
      const retired = await store.encryptionKeys.retiredAt(keyId(current));
      const reason = `GHCONNECT_ENCRYPTION_KEY (id ${keyId(current)})${previous ? ` and GHCONNECT_PREVIOUS_ENCRYPTION_KEY (id ${keyId(previous)})` : ""} ${previous ? "are" : "is"} not the active key (id ${active.keyId} since ${active.since})${retired ? `; GHCONNECT_ENCRYPTION_KEY was retired at ${retired}` : ""}`;
      await store.audit.append({
        actor: { slack: null },
        action: "key.rotated",
        outcome: "refused",
        details: { reason, active_key_id: active.keyId, ...given, to_key_id: nextId },
      });
      fail(
        `rotate-key: ${reason}, so the stored credentials cannot be read; nothing was changed. Run \`npx ghconnect rotate-key\` again with GHCONNECT_ENCRYPTION_KEY set to the key with id ${active.keyId} and the same new key.`,
        1,
      );
    }
    const n = outcome.count;
    const was = outcome.from === nextId ? ` (key id ${nextId} was already the active key)` : ` (key id ${outcome.from} → ${nextId})`;
    process.stdout.write(
      `re-encrypted ${n} credential${n === 1 ? "" : "s"}${was}${outcome.upgraded ? `, ${outcome.upgraded} of them from the format before v2` : ""}. Key id ${nextId} is now the active key: every replica writes with it. Set GHCONNECT_ENCRYPTION_KEY to the new key on every replica and remove GHCONNECT_PREVIOUS_ENCRYPTION_KEY, restarting them one by one; a replica started with the old key alone refuses to start.\n`,
    );
  } finally {
    await db.close();
  }
}

/** host:port/database of a postgres:// URL, never its password. */
function safeDatabaseTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes to stdout, waiting when the pipe is full (an export of years must not buffer in memory). */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once("drain", r));
}

main(process.argv.slice(2)).catch((error) => fail((error as Error).message, 1));
