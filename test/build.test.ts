// Production runs the compiled app (`npm start`: tsc into dist/, then plain node with source maps),
// not TypeScript through a loader. This runs `npm start` as an operator would, with one broken
// variable, and reads what the operator sees; then the compiled CLI applies the compiled
// migrations.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { migrations } from "../migrations/index.js";
import { testEnv } from "./helpers/bot.js";

const BUILD_TIMEOUT_MS = 180_000;
const scratch = mkdtempSync(join(tmpdir(), "ghconnect-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Only what we pass, plus PATH/HOME for npm: no .env file is read (DOTENV_CONFIG_PATH points nowhere). */
const bare = (env: Record<string, string>) => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? scratch,
  DOTENV_CONFIG_PATH: "/nonexistent/.env",
  ...env,
});

describe("the production start", () => {
  it(
    "npm start builds dist/ and runs it with plain node: a broken variable is one line and exit code 2",
    () => {
      const env = testEnv({ DATABASE_URL: "sqlite::memory:", SLACK_ADMIN_CHANNEL: "#ghes-admins" });
      const r = spawnSync("npm", ["start", "--silent"], { env: bare(env), encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
      const stderr = r.stderr.trim();
      expect(stderr.split("\n")).toHaveLength(1);
      expect(stderr).toContain("ghconnect: cannot start: SLACK_ADMIN_CHANNEL is malformed: it should be a channel id like C0123ABCD");
      expect(r.status).toBe(2);
      // What ran is the compiled app, with its source maps for readable stack traces.
      expect(existsSync("dist/src/main.js")).toBe(true);
      expect(existsSync("dist/src/main.js.map")).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );

  it("the compiled CLI applies the compiled migrations", () => {
    // Runs after the test above has built dist/.
    const r = spawnSync(process.execPath, ["--enable-source-maps", "dist/src/cli.js", "migrate"], {
      env: bare({ DATABASE_URL: `sqlite:${join(scratch, "ghconnect.db")}` }),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(`applied: ${Object.keys(migrations).join(", ")}`);
    expect(r.status).toBe(0);
  });

  it("the compiled app's recording thread runs with plain node (no TypeScript loader) and writes the chain", () => {
    // Runs after the first test has built dist/. The thread's entry is compiled JavaScript here.
    const url = `sqlite:${join(scratch, "recording.db")}`;
    const dist = (path: string) => JSON.stringify(pathToFileURL(join(process.cwd(), "dist", "src", path)).href);
    const script = join(scratch, "record.mjs");
    writeFileSync(
      script,
      `
      import { openDatabase } from ${dist("db/database.js")};
      import { migrateToLatest } from ${dist("db/migrate.js")};
      import { RecordingThread } from ${dist("db/recording-thread.js")};
      import { Store } from ${dist("db/store.js")};
      import { NoKeyBox } from ${dist("db/secret-box.js")};
      const db = await openDatabase(${JSON.stringify(url)});
      await migrateToLatest(db);
      const thread = RecordingThread.start(db, { error: (o, m) => console.error(m, o.err?.message) });
      const started = await thread.started();
      const store = new Store(db, () => new Date(), new NoKeyBox());
      store.recordingThread = thread;
      let onMainThread = 0;
      const inline = store.transaction.bind(store);
      store.transaction = (fn) => (onMainThread++, inline(fn));
      const entries = await Promise.all([1, 2, 3].map((i) => store.auditOnce({ deliveryId: "command:" + i, kind: "command" }, { actor: { slack: "U1" }, action: "command.status", outcome: "ok" })));
      console.log(JSON.stringify({ started, seqs: entries.map((e) => e.seq), onMainThread }));
      await thread.close();
      await db.close();
    `,
    );
    const r = spawnSync(process.execPath, [script], { env: bare({}), encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ started: true, seqs: [1, 2, 3], onMainThread: 0 });
  });
});

describe("prestart builds only when dist/ is stale", () => {
  /** A project tree with dist/ built at `builtAt` and a source written at `sourceAt` (seconds). */
  function tree(name: string, times: { builtAt: number; sourceAt: number }): string {
    const root = join(scratch, name);
    for (const d of ["src", "migrations", "dist/src"]) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, "src", "main.ts"), "export {};\n");
    writeFileSync(join(root, "dist", "src", "main.js"), "export {};\n");
    writeFileSync(join(root, "package.json"), "{}\n");
    utimesSync(join(root, "package.json"), times.builtAt - 100, times.builtAt - 100);
    utimesSync(join(root, "src", "main.ts"), times.sourceAt, times.sourceAt);
    utimesSync(join(root, "dist", "src", "main.js"), times.builtAt, times.builtAt);
    return root;
  }

  it("dist/ newer than every source: no tsc run, and it says so", () => {
    const root = tree("fresh", { builtAt: 2_000_000_000, sourceAt: 1_900_000_000 });
    // An output whose source was since deleted is never rewritten by tsc: it does not count.
    mkdirSync(join(root, "dist", "migrations"), { recursive: true });
    writeFileSync(join(root, "dist", "migrations", "0006_gone.js"), "export {};\n");
    utimesSync(join(root, "dist", "migrations", "0006_gone.js"), 1_000_000_000, 1_000_000_000);
    const r = spawnSync(process.execPath, ["bin/build-if-stale.js", root], { encoding: "utf8" });
    expect(r.stdout).toBe("ghconnect: dist/ is up to date; not rebuilding\n");
    expect(r.status).toBe(0);
  });

  it("a source edited after the build: stale, naming the file", async () => {
    const { staleReason } = await import("../bin/build-if-stale.js");
    const root = tree("edited", { builtAt: 1_900_000_000, sourceAt: 2_000_000_000 });
    expect(staleReason(root)).toBe("src/main.ts changed since the last build");
    rmSync(join(root, "dist"), { recursive: true });
    expect(staleReason(root)).toBe("dist/ has not been built yet");
  });
});
