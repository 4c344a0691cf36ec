// `ghconnect` on the command line: for operators and auditors, who may have database access but
// no Slack. migrate and audit need DATABASE_URL; audit export also the key it signs with, and
// audit verify reads the admin channel when the Slack settings are set (cli-audit.ts).
import "dotenv/config";
import { AUDIT_USAGE, auditCli } from "./cli-audit.js";
import { systemClock } from "./core/clock.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { NoKeyBox, SecretBox, WrongEncryptionKey } from "./db/secret-box.js";
import { Store } from "./db/store.js";

const USAGE = `usage: ghconnect <command>
  migrate                                   apply pending database migrations
  check                                     run every check of /ghconnect check from this terminal (needs the full configuration)
  rotate-key --new-key BASE64               re-encrypt every stored credential under a new key
                                            (GHCONNECT_ENCRYPTION_KEY is the current one); then set the new key everywhere
${AUDIT_USAGE}

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
    const { loadConfig, ConfigError } = await import("./config.js");
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig();
    } catch (error) {
      if (error instanceof ConfigError) fail(`${error.message}. See .env.example.`);
      throw error;
    }
    const { createGhconnect } = await import("./app.js");
    const { createLogger } = await import("./log.js");
    const { checksText } = await import("./core/enable-card.js");
    const { checksVerdict } = await import("./core/everyday.js");
    const app = await createGhconnect({ config, log: createLogger("silent") });
    try {
      const results = await app.everyday.runChecks();
      process.stdout.write(`${checksText(results).replace(/\*/g, "")}\n${checksVerdict(results)}. Nothing was changed.\n`);
      if (results.some((r) => r.status === "fail")) process.exitCode = 1;
    } finally {
      await app.close();
    }
    return;
  }
  if (command === "audit") {
    process.exitCode = await auditCli(sub, rest, { env: process.env, fail, flag, withStore, out: writeOut });
    return;
  }
  if (!command || command === "help" || command === "--help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  fail(`unknown command: ${argv.join(" ")}\n${USAGE}`);
}

/** Writes to stdout, waiting when the pipe is full (an export of years must not buffer in memory). */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once("drain", r));
}

main(process.argv.slice(2)).catch((error) => fail((error as Error).message, 1));
