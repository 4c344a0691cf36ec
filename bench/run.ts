// `npm run bench`: ghconnect against the sandbox on loopback, side by side with a bare Bolt app
// answering the same signed slash command, in one run. Prints a table and a final line, and
// writes bench/results.json. Ratios against the baseline of the same run, never absolute timers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, HTTPReceiver } from "@slack/bolt";
import { createLogger } from "../src/log.js";
import { freePort, startBotOnSandbox } from "../src/sandbox/bot.js";
import { SandboxBrowser } from "../src/sandbox/browser.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS, startSandbox } from "../src/sandbox/index.js";
import { type SignedRequest, SlackDriver } from "../src/sandbox/slack/driver.js";

const gc = (globalThis as { gc?: () => void }).gc;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Sends the requests with `concurrency` in flight; returns each one's latency in ms. */
async function load(driver: SlackDriver, requests: SignedRequest[], concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++] as SignedRequest;
      const started = performance.now();
      const { status } = await driver.send(request);
      if (status !== 200) throw new Error(`HTTP ${status}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies.sort((a, b) => a - b);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "ghconnect-bench-"));
  const sandbox = await startSandbox();
  const { bot, driver, url, config } = await startBotOnSandbox(sandbox, {
    databaseUrl: `sqlite:${join(dir, "bench.db")}`,
    log: createLogger("silent"),
  });

  // The baseline: a bare Bolt app answering the same command with an empty ack.
  const barePort = await freePort();
  const signingSecret = config.SLACK_SIGNING_SECRET;
  const bare = new App({
    receiver: new HTTPReceiver({ signingSecret }),
    token: sandbox.env().SLACK_BOT_TOKEN,
    clientOptions: { slackApiUrl: sandbox.urls.slackApi },
  });
  bare.command("/ghconnect", async ({ ack }) => ack());
  await bare.start(barePort);
  const bareDriver = new SlackDriver({
    botUrl: `http://127.0.0.1:${barePort}`,
    signingSecret,
    slack: sandbox.slack,
    defaultChannel: SANDBOX_ADMIN_CHANNEL,
  });

  // Connect, timing the whole enable flow through the sandbox.
  const enableStarted = performance.now();
  await driver.command(SANDBOX_USERS.alice.slack, "enable acme");
  const card = await waitFor(() => sandbox.slack.messages.find((m) => /Accept addendum/.test(JSON.stringify(m.blocks))));
  const accept = (card.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === "enable.accept");
  await driver.send(driver.clickRequest(SANDBOX_USERS.alice.slack, card, "enable.accept", accept?.value));
  const reply = await waitFor(() => sandbox.slack.messages.find((m) => /Continue on GitHub/.test(JSON.stringify(m.blocks))));
  const link = JSON.stringify(reply.blocks).match(/"url":"([^"]+)"/)?.[1] as string;
  const browser = new SandboxBrowser();
  await browser.signIn(sandbox.urls.web, "octocat");
  await browser.browse(link);
  const enableMs = performance.now() - enableStarted;
  if (!(await bot.store.connections.active())) throw new Error("enable did not complete");

  const rows: Array<{
    concurrency: number;
    requests: number;
    bare_p50: number;
    bare_p99: number;
    ghconnect_p50: number;
    ghconnect_p99: number;
    ratio_p99: number;
  }> = [];
  for (const [concurrency, n] of [
    [1, 200],
    [10, 1000],
    [100, 2000],
  ] as const) {
    const commands = (d: SlackDriver) => Array.from({ length: n }, () => d.commandRequest(SANDBOX_USERS.alice.slack, "status"));
    await load(bareDriver, commands(bareDriver).slice(0, 100), concurrency); // warm-up
    await load(driver, commands(driver).slice(0, 100), concurrency);
    const b = await load(bareDriver, commands(bareDriver), concurrency);
    const g = await load(driver, commands(driver), concurrency);
    const row = {
      concurrency,
      requests: n,
      bare_p50: round(percentile(b, 50)),
      bare_p99: round(percentile(b, 99)),
      ghconnect_p50: round(percentile(g, 50)),
      ghconnect_p99: round(percentile(g, 99)),
      ratio_p99: round(percentile(g, 99) / percentile(b, 99)),
    };
    rows.push(row);
    await settle(bot);
  }

  // GitHub calls made by 1,000 `status` with a fresh cache (target 0).
  const received = () =>
    sandbox.routers.api.received.length +
    sandbox.routers.web.received.length +
    sandbox.routers.ghes.received.length +
    sandbox.routers.manage.received.length;
  await driver.command(SANDBOX_USERS.alice.slack, "status");
  await settle(bot);
  const callsBefore = received();
  await load(
    driver,
    Array.from({ length: 1000 }, () => driver.commandRequest(SANDBOX_USERS.alice.slack, "status")),
    20,
  );
  await settle(bot);
  const githubCalls = received() - callsBefore;

  // Memory over 10,000 commands.
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  await load(
    driver,
    Array.from({ length: 10_000 }, (_, i) => driver.commandRequest(SANDBOX_USERS.alice.slack, i % 2 ? "help" : "status")),
    50,
  );
  await settle(bot);
  gc?.();
  const rssAfter = process.memoryUsage().rss;

  // Disable end to end.
  const disableStarted = performance.now();
  await driver.command(SANDBOX_USERS.alice.slack, "disable acme");
  const dcard = await waitFor(() => [...sandbox.slack.messages].reverse().find((m) => /disable\.approve/.test(JSON.stringify(m.blocks))));
  const approve = (dcard.blocks as Array<{ elements?: Array<{ action_id: string; value?: string }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === "disable.approve");
  await driver.send(driver.clickRequest(SANDBOX_USERS.bob.slack, structuredClone(dcard), "disable.approve", approve?.value));
  await waitFor(async () => !(await bot.store.connections.active()));
  const disableMs = performance.now() - disableStarted;

  const at100 = rows.find((r) => r.concurrency === 100)!;
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    url,
    ack_latency_ms: rows,
    github_calls_for_1000_fresh_status: githubCalls,
    rss_mb: {
      before: round(rssBefore / 2 ** 20),
      after: round(rssAfter / 2 ** 20),
      change_pct: round(((rssAfter - rssBefore) / rssBefore) * 100),
      gc: Boolean(gc),
    },
    enable_ms: round(enableMs),
    disable_ms: round(disableMs),
    targets: {
      p99_at_100_le_100ms: at100.ghconnect_p99 <= 100,
      p99_at_100_le_1_5x_bare: at100.ratio_p99 <= 1.5,
      zero_github_calls: githubCalls === 0,
      rss_within_10pct: Math.abs((rssAfter - rssBefore) / rssBefore) <= 0.1,
      enable_under_2s: enableMs < 2000,
      disable_under_2s: disableMs < 2000,
    },
  };
  mkdirSync("bench", { recursive: true });
  writeFileSync("bench/results.json", `${JSON.stringify(results, null, 2)}\n`);

  const line = (cells: Array<string | number>) => cells.map((c) => String(c).padStart(14)).join("");
  process.stdout.write(`${line(["concurrency", "requests", "bare p50", "bare p99", "ghconnect p50", "ghconnect p99", "p99 ratio"])}\n`);
  for (const r of rows)
    process.stdout.write(
      `${line([r.concurrency, r.requests, r.bare_p50, r.bare_p99, r.ghconnect_p50, r.ghconnect_p99, `${r.ratio_p99}×`])}\n`,
    );
  process.stdout.write(
    `\nGitHub calls for 1,000 status (fresh cache): ${githubCalls}\nRSS over 10,000 commands: ${results.rss_mb.before} MB → ${results.rss_mb.after} MB (${results.rss_mb.change_pct} %)${gc ? "" : " (run with --expose-gc for a steadier figure)"}\nenable end to end: ${results.enable_ms} ms · disable end to end: ${results.disable_ms} ms\n`,
  );
  const failed = Object.entries(results.targets)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  process.stdout.write(
    `\nbench: p99 at 100 concurrent ${at100.ghconnect_p99} ms = ${at100.ratio_p99}× bare Bolt; ${failed.length ? `MISSED: ${failed.join(", ")}` : "all targets met"} (results in bench/results.json)\n`,
  );
  await bare.stop();
  await bot.close();
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}

const round = (n: number) => Math.round(n * 100) / 100;

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the work after acks has drained (the audit count stops moving). */
async function settle(bot: { store: { audit: { count(): Promise<number> } } }): Promise<void> {
  let last = -1;
  for (;;) {
    const n = await bot.store.audit.count();
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, 300));
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
