// A bot killed in the middle of an uninstall, as an operator would see it: the real process
// (src/main.ts) is SIGKILLed while GitHub holds the DELETE, restarted on the same database, and
// the running app itself hands the disconnect back to the admins (Retry / Delete local
// credentials anyway). Nothing here calls a sweep: only the app's own schedule may recover it.
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { verifyChain } from "../../src/core/audit.js";
import { freePort, sandboxBotEnv } from "../../src/sandbox/bot.js";
import type { Hold } from "../../src/sandbox/github/world.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS } from "../../src/sandbox/index.js";
import { SlackDriver } from "../../src/sandbox/slack/driver.js";
import type { PostedMessage } from "../../src/sandbox/slack/server.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

/** A real `npm start`: src/main.ts, configured only through its environment. */
interface BotProcess {
  child: ChildProcess;
  driver: SlackDriver;
  exited: Promise<number | null>;
  /** What the process wrote (its log and stderr), to show when the test fails. */
  output(): string;
}

async function startProcess(world: World, extraEnv: Record<string, string>): Promise<BotProcess> {
  // A port found free may be taken by another process before the bot binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    const started = await spawnBot(world, await freePort(), extraEnv);
    if ("child" in started) return started;
    if (!started.portTaken || attempt >= 5) throw new Error(`the bot did not start: ${started.output}`);
  }
}

async function spawnBot(
  world: World,
  port: number,
  extraEnv: Record<string, string>,
): Promise<BotProcess | { portTaken: boolean; output: string }> {
  const env = sandboxBotEnv(world.sandbox, port, world.testDb.url, { LOG_LEVEL: "info", ...extraEnv });
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let onOutput = () => {};
  const record = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    onOutput();
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Its log says when it listens (LOG_LEVEL=info); an exit first means it could not start.
  const listening = new Promise<boolean>((resolve) => {
    onOutput = () => {
      if (output.includes('"msg":"ghconnect is listening"')) resolve(true);
    };
    void exited.then(() => resolve(false));
  });
  if (!(await within(listening, 30_000, "the bot's start-up"))) return { portTaken: output.includes("is in use"), output };
  const driver = new SlackDriver({
    botUrl: `http://127.0.0.1:${port}`,
    signingSecret: env.SLACK_SIGNING_SECRET as string,
    slack: world.sandbox.slack,
    defaultChannel: SANDBOX_ADMIN_CHANNEL,
  });
  return { child, driver, exited, output: () => output };
}

const button = (message: PostedMessage, actionId: string) =>
  (message.blocks as Array<{ elements?: Array<{ action_id: string; value?: string; text?: { text: string } }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === actionId);

/** Rejects after `ms` instead of waiting forever on an event that never comes. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Like world.card, with a longer deadline: two bot processes start here, and the machine may be
 * busy with other suites.
 */
function cardIn(world: World, match: RegExp, since = 0): Promise<PostedMessage> {
  return eventually(
    () => [...world.channel()].reverse().find((m) => world.sandbox.slack.messages.indexOf(m) >= since && match.test(textOf(m))),
    60_000,
  );
}

async function auditOf(world: World, action: string) {
  const all = [];
  for await (const e of world.bot.bot.store.audit.all()) all.push(e);
  expect(verifyChain(all)).toMatchObject({ ok: true });
  return all.filter((e) => e.action === action);
}

describe.each(ENGINES)("crash recovery of the real process (%s)", (engine) => {
  let world: World | undefined;
  let hold: Hold | undefined;
  const processes: BotProcess[] = [];
  afterEach(async () => {
    hold?.release();
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      await within(p.exited, 15_000, "the bot's exit").catch(() => p.child.kill("SIGKILL"));
    }
    processes.length = 0;
    await world?.close();
    world = undefined;
  });

  it("a bot killed while GitHub holds the uninstall: after a restart the card offers Retry, and Retry disconnects once", async () => {
    onTestFailed(() => {
      for (const [i, p] of processes.entries()) console.error(`--- bot process ${i + 1} ---\n${p.output()}`);
      console.error(`--- admin channel ---\n${world?.channel().map(textOf).join("\n---\n")}`);
    });
    world = await startWorld(engine);
    // Only the real process runs the bot: the in-process one would otherwise sweep too.
    await world.bot.stop();
    // Short timings, as an operator may set them: a sweep every second, a 3-second lease.
    const env = { GHCONNECT_SWEEP_INTERVAL: "1s", GHCONNECT_EXECUTION_LEASE: "3s" };
    const first = await startProcess(world, env);
    processes.push(first);
    const alice = SANDBOX_USERS.alice.slack;
    const bob = SANDBOX_USERS.bob.slack;

    // Connect acme through the process, as alice would.
    let since = world.mark();
    await first.driver.command(alice, "enable acme");
    const addendum = structuredClone(await cardIn(world, /Accept addendum and continue/, since));
    since = world.mark();
    await first.driver.send(first.driver.clickRequest(alice, addendum, "enable.accept", button(addendum, "enable.accept")?.value));
    const link = world.linkIn(await world.privateMessage("alice", /Continue on GitHub/, since), /Continue on GitHub/);
    expect((await world.browse("alice", link)).text).toContain("Connected acme");

    // Ask for the disconnect; bob approves it while GitHub holds the uninstall.
    since = world.mark();
    await first.driver.command(alice, "disable acme");
    const request = structuredClone(await cardIn(world, /Disconnect acme\?[\s\S]*Approving will/, since));
    // The requester's confirmation comes once the card is recorded with the request.
    await world.privateMessage("alice", /Posted the disconnect request for acme/, since);
    hold = world.sandbox.world.hold({ host: "api", method: "DELETE", pathIncludes: "/app/installations/" });
    await first.driver.send(first.driver.clickRequest(bob, request, "disable.approve", button(request, "disable.approve")?.value));
    await within(hold.arrived, 60_000, "the uninstall request reaching GitHub");
    await cardIn(world, /Revoking the token, uninstalling the app, deleting the credentials/);
    first.child.kill("SIGKILL");
    await within(first.exited, 10_000, "the killed bot's exit");

    // The restarted bot, on the same database, recovers it on its own schedule.
    const second = await startProcess(world, env);
    processes.push(second);
    const card = structuredClone(await cardIn(world, /The bot executing this disconnect stopped/));
    const text = textOf(card);
    expect(text).toContain("The bot executing this disconnect stopped (restart or crash) before it finished; nothing was deleted locally.");
    expect(text).toContain("Retry, or delete the local credentials anyway");
    expect(button(card, "disable.retry")?.text?.text).toBe("Retry");
    expect(button(card, "disable.force")?.text?.text).toBe("Delete local credentials anyway");
    // Nothing was deleted: still connected, still installed on GitHub.
    expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
    expect(world.sandbox.world.installations.at(-1)?.deleted).toBe(false);
    // The card's thread and the audit trail say what happened, by the bot itself.
    const thread = await eventually(() =>
      world?.sandbox.slack.messages.find((m) => m.threadTs === card.ts && /The bot executing this disconnect stopped/.test(textOf(m))),
    );
    expect(textOf(thread)).toContain("Retry, or delete the local credentials anyway.");
    const interrupted = await auditOf(world, "disable.interrupted");
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]).toMatchObject({ actor_slack: null, outcome: "failed", target: "acme" });

    // GitHub answers now: Retry finishes the disconnect, once.
    since = world.mark();
    await second.driver.send(second.driver.clickRequest(alice, card, "disable.retry", button(card, "disable.retry")?.value));
    const done = await cardIn(world, /Disconnected acme/);
    expect(textOf(done)).toContain("Installation token revoked; app uninstalled; every credential deleted from this server.");
    expect(world.sandbox.world.installations.at(-1)?.deleted).toBe(true);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await auditOf(world, "disable.done")).toHaveLength(1);
    expect(await auditOf(world, "disable.approved")).toHaveLength(1);
    expect(await auditOf(world, "disable.interrupted")).toHaveLength(1);
  }, 240_000);
});
