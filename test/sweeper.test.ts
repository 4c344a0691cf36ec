// What an operator sees of the periodic duties: a failing duty is a log line naming it, never a
// crash and never a skipped neighbour; their timings are validated at start-up like any setting.
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { Sweeper } from "../src/sweeper.js";
import { testEnv } from "./helpers/bot.js";

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

describe("the sweeper", () => {
  it("logs a failing duty by name and still runs the next ones, round after round", async () => {
    const { log, lines } = capturedLog();
    let recovered = 0;
    const sweeper = new Sweeper(
      [
        {
          name: "disconnect recovery",
          run: async () => {
            throw new Error("database is unavailable");
          },
        },
        { name: "slack_events pruning", run: async () => recovered++ },
      ],
      60_000,
      log,
    );
    await sweeper.sweep();
    await sweeper.sweep();
    await sweeper.close();
    expect(recovered).toBe(2);
    const failures = lines.filter((l) => l.msg === "a periodic duty failed; it runs again next interval");
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ level: 40, duty: "disconnect recovery", err: { message: "database is unavailable" } });
  });

  it("joins a round in progress instead of starting a second one over it", async () => {
    const { log } = capturedLog();
    let release = () => {};
    let runs = 0;
    const sweeper = new Sweeper(
      [
        {
          name: "slow",
          run: () => {
            runs++;
            return new Promise<void>((resolve) => {
              release = resolve;
            });
          },
        },
      ],
      60_000,
      log,
    );
    const first = sweeper.sweep();
    const second = sweeper.sweep();
    release();
    await Promise.all([first, second]);
    expect(runs).toBe(1);
  });
});

describe("sweep and lease timings", () => {
  it("default to a sweep every 30 s and a 60 s disconnect lease", () => {
    const config = loadConfig(testEnv());
    expect(config.GHCONNECT_SWEEP_INTERVAL).toBe(30_000);
    expect(config.GHCONNECT_EXECUTION_LEASE).toBe(60_000);
  });

  it.each([
    ["GHCONNECT_SWEEP_INTERVAL", "2h", "GHCONNECT_SWEEP_INTERVAL is malformed: it should be between 1s and 1h, e.g. 30s"],
    ["GHCONNECT_EXECUTION_LEASE", "1s", "GHCONNECT_EXECUTION_LEASE is malformed: it should be between 3s and 1h, e.g. 60s"],
  ])("%s=%s stops start-up with one line naming it (exit 2)", (variable, value, line) => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        DOTENV_CONFIG_PATH: "/nonexistent/.env",
        ...testEnv({ DATABASE_URL: "sqlite::memory:" }),
        [variable]: value,
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`ghconnect: cannot start: ${line}. See .env.example.`);
  });
});
