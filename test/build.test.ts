// Production runs the compiled app (`npm start`: tsc into dist/, then plain node with source maps),
// not TypeScript through a loader. This runs `npm start` as an operator would, with one broken
// variable, and reads what the operator sees; then the compiled CLI applies the compiled
// migrations.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
});
