// The bot's smaller surfaces (SPEC §7): /metrics only on its own loopback listener, and signed
// requests from another Slack workspace or app refused, told so, and audited.
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { freePort, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { startSandbox } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { createTestDb } from "../helpers/db.js";
import { startWorld, type World } from "../helpers/world.js";

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

describe("the metrics listener", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("GET /metrics is 404 on the public port, and Prometheus text on METRICS_PORT, bound to 127.0.0.1", async () => {
    const { log, lines } = logSink();
    world = await startWorld("sqlite", { log });
    await world.command("mallory", "help");

    const publicAnswer = await fetch(`${world.bot.url}/metrics`);
    expect(publicAnswer.status).toBe(404);
    expect(await publicAnswer.text()).not.toContain("ghconnect_");

    const metricsPort = world.bot.bot.metricsPort() as number;
    expect(metricsPort).not.toBe(world.bot.port);
    const body = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      return /ghconnect_commands_total\{command="help",outcome="ok"\} 1/.test(text) ? text : undefined;
    });
    expect(body).toContain("# TYPE ghconnect_commands_total counter");
    // Only /metrics is served there: no Slack endpoint, no pages.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/slack/events`, { method: "POST" })).status).toBe(404);
    // What the operator reads at start-up: the loopback address it is bound to.
    const listening = lines.find((l) => l.msg === "ghconnect is listening");
    expect(listening).toMatchObject({ port: world.bot.port, metrics: `127.0.0.1:${metricsPort}` });
  });

  it("a METRICS_PORT already in use stops start-up with a ConfigError naming it", async () => {
    const sandbox = await startSandbox();
    const testDb = await createTestDb("sqlite");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const busyPort = (taken.address() as { port: number }).port;
    try {
      const port = await freePort();
      const started = startBotOnSandbox(sandbox, { databaseUrl: testDb.url, db: testDb.db, port, env: { METRICS_PORT: String(busyPort) } });
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(
        `METRICS_PORT could not be opened on 127.0.0.1:${busyPort} (EADDRINUSE): choose a free port, or off`,
      );
      // The public port was given back too.
      await new Promise<void>((resolve, reject) => {
        const probe = createServer();
        probe.once("error", reject);
        probe.listen(port, () => probe.close(() => resolve()));
      });
    } finally {
      taken.close();
      await sandbox.stop();
      await testDb.cleanup();
    }
  });
});
