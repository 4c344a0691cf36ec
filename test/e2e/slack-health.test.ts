// What an operator sees when the bot cannot use Slack: start-up names the cause in one log line
// (or refuses to start for a token Slack refuses), /healthz is 503 "degraded" with the Slack
// check named while Slack is unreachable, and it turns ok again on the app's own schedule.
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { type SandboxedBot, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

interface Health {
  status: string;
  checks: { database: { status: string }; slack: { status: string; mode: string; detail: string } };
}

async function health(bot: SandboxedBot): Promise<{ code: number; body: Health }> {
  const response = await fetch(`${bot.url}/healthz`);
  return { code: response.status, body: (await response.json()) as Health };
}

/** A logger whose lines the test reads, as an operator reads the bot's output. */
function capturedLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return {
    log,
    errors: () => lines.filter((l) => l.level >= 50).map((l) => l.msg),
    warnings: () => lines.filter((l) => l.level >= 40).map((l) => l.msg),
  };
}

describe("the bot and Slack's reachability", () => {
  let sandbox: Sandbox | undefined;
  let testDb: TestDb | undefined;
  let bot: SandboxedBot | undefined;
  afterEach(async () => {
    await bot?.stop();
    await sandbox?.stop();
    await testDb?.cleanup();
    bot = sandbox = testDb = undefined;
  });

  async function start(options: { env?: Record<string, string>; log?: ReturnType<typeof capturedLog>["log"] } = {}) {
    sandbox ??= await startSandbox();
    testDb ??= await createTestDb("sqlite");
    bot = await startBotOnSandbox(sandbox, {
      databaseUrl: testDb.url,
      db: testDb.db,
      env: options.env,
      log: options.log,
      app: { slackRecheckMs: 250 },
    });
    return bot;
  }

  it("healthz is ok with Slack answering, degraded (503) during a Slack outage, and ok again by itself", async () => {
    const { log, errors } = capturedLog();
    const b = await start({ log });
    expect(await health(b)).toMatchObject({ code: 200, body: { status: "ok", checks: { slack: { status: "ok", mode: "http" } } } });
    const slack = sandbox as Sandbox;
    slack.slack.outage = 503;
    const down = await eventually(async () => {
      const h = await health(b);
      return h.code === 503 ? h : undefined;
    });
    expect(down.body.status).toBe("degraded");
    expect(down.body.checks.slack.status).toBe("unreachable");
    expect(down.body.checks.slack.detail).toBe(`${new URL(slack.slack.url).host} answered HTTP 503`);
    expect(down.body.checks.database.status).toBe("ok");
    expect(errors()).toContainEqual(expect.stringContaining(`${new URL(slack.slack.url).host} answered HTTP 503`));

    // No one calls a check from here: the app's own schedule notices Slack is back.
    slack.slack.outage = undefined;
    const up = await eventually(async () => {
      const h = await health(b);
      return h.code === 200 ? h : undefined;
    });
    expect(up.body).toMatchObject({ status: "ok", checks: { slack: { status: "ok" } } });
  });

  it("an unreachable Slack host at start-up: the bot starts, logs the host and the cause once, and healthz says so", async () => {
    const { log, errors } = capturedLog();
    const b = await start({ log, env: { SLACK_API_URL: "http://slack.invalid/api/" } });
    const h = await health(b);
    expect(h.code).toBe(503);
    // ENOTFOUND where a resolver answers, EAI_AGAIN where none can be reached: this machine decides,
    // and both are the one outcome "DNS lookup failed" (the code is passed on as it came).
    expect(h.body.checks.slack).toMatchObject({
      status: "unreachable",
      detail: expect.stringMatching(/^cannot reach slack\.invalid: DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\)$/),
    });
    const named = errors().filter((m) => m.includes("cannot reach slack.invalid: DNS lookup failed"));
    expect(named).toHaveLength(1);
    expect(named[0]).toContain("Check the host name, or set HTTPS_PROXY");
    expect(errors().some((m) => /http request failed/.test(m))).toBe(false);
  });

  it("a bot token Slack refuses stops the start, naming SLACK_BOT_TOKEN and Slack's reason", async () => {
    const refused = await start({ env: { SLACK_BOT_TOKEN: "xoxb-1-revoked-or-from-another-app" } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(
      /^SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\): Set SLACK_BOT_TOKEN to this app's Bot User OAuth Token/,
    );
  });

  it("posting to a Slack that is down gives up after three tries, and says so, instead of retrying for half an hour", async () => {
    const { log, warnings } = capturedLog();
    const b = await start({ log });
    const slack = (sandbox as Sandbox).slack;
    slack.outage = 503;
    const posted = slack.calls.length;
    await b.driver.command("U0ALICE001", "enable acme");
    await eventually(() => warnings().includes("could not post to Slack"));
    const tries = slack.calls.slice(posted).filter((c) => c.method === "chat.postMessage");
    expect(tries.map((c) => c.error)).toEqual(["http_503", "http_503", "http_503"]);
  });
});
