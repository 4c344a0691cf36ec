// `npm run demo`: the sandbox and the bot on SQLite, and a terminal to drive them as Slack users
// (SPEC §9). Lines come from the keyboard, or from standard input when it is not a terminal, so a
// scenario can be piped in (`npm run demo < examples/tour.txt`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createLogger } from "../log.js";
import { startBotOnSandbox } from "./bot.js";
import { SandboxBrowser } from "./browser.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS, type SandboxUserName, startSandbox } from "./index.js";
import type { PostedMessage } from "./slack/server.js";
import { ansi, plain, Transcript } from "./slack/transcript.js";

const interactive = process.stdin.isTTY === true;
const style = interactive && process.stdout.isTTY ? ansi : plain;

const HELP = `Commands:
  /ghconnect …      run a slash command as the current Slack user (try: /ghconnect help)
  :as USER          switch user: ${Object.entries(SANDBOX_USERS)
    .map(([n]) => n)
    .join(", ")}
  :users            who is who in the sandbox
  :click N          press button N (confirm dialogs are confirmed)
  :browse N         follow link N in a browser signed in as the user's github.com account
  :open N           print link N, to open in a real browser
  :clock +56m       move the sandbox GitHub clock forward (s, m, h)
  :help, :quit`;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "ghconnect-demo-"));
  const sandbox = await startSandbox();
  const {
    driver,
    url: botUrl,
    stop: stopBot,
  } = await startBotOnSandbox(sandbox, {
    databaseUrl: `sqlite:${join(dir, "demo.db")}`,
    log: createLogger(process.env.DEMO_LOG_LEVEL ?? "silent"),
  });
  const transcript = new Transcript(style);
  const seen = new Map<PostedMessage, number>();
  let user: SandboxUserName = "alice";

  const say = (s = "") => process.stdout.write(`${s}\n`);
  const whoami = () => `${user} (${SANDBOX_USERS[user].slack})`;

  /** Prints what the current user can now see that is new or changed, once things settle. */
  async function showNew(): Promise<void> {
    let last = -1;
    for (let i = 0; i < 100; i++) {
      const signature = sandbox.slack.messages.reduce((n, m) => n + 1 + m.updates, 0);
      if (signature === last) break;
      last = signature;
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const message of sandbox.slack.visibleTo(SANDBOX_USERS[user].slack)) {
      if (seen.get(message) === message.updates) continue;
      const where = message.channel === SANDBOX_ADMIN_CHANNEL ? "#ghes-admins" : message.channel;
      const heading = `${message.user ? `only visible to you in ${where}` : message.threadTs ? `${where} › thread` : where}${seen.has(message) ? " (updated)" : ""}`;
      seen.set(message, message.updates);
      say(transcript.render(message, `── ${heading}`));
      say();
    }
  }

  const item = (arg: string, kind: "button" | "link") => {
    const found = transcript.items.find((i) => i.n === Number(arg));
    if (!found) throw new Error(`there is no ${kind} ${arg}`);
    if (found.kind !== kind)
      throw new Error(`${arg} is a ${found.kind}; use ${found.kind === "link" ? ":browse or :open" : ":click"} ${arg}`);
    return found;
  };

  async function run(line: string): Promise<boolean> {
    const [head = "", ...rest] = line.trim().split(/\s+/);
    const arg = rest.join(" ");
    if (line.trim() === "" || line.trim().startsWith("#")) return true;
    if (head === "/ghconnect") {
      const result = await driver.command(SANDBOX_USERS[user].slack, arg);
      if (result.status !== 200) say(style.red(`Slack got HTTP ${result.status} from the bot`));
      await showNew();
      return true;
    }
    switch (head) {
      case ":help":
        say(HELP);
        return true;
      case ":quit":
      case ":exit":
        return false;
      case ":users":
        for (const [name, u] of Object.entries(SANDBOX_USERS))
          say(`  ${name.padEnd(8)} Slack ${u.slack}, GHES ${u.ghes}, github.com ${u.github}: ${u.about}`);
        return true;
      case ":as": {
        const name = arg.toLowerCase() as SandboxUserName;
        if (!SANDBOX_USERS[name]) throw new Error(`no sandbox user ${arg}; try :users`);
        user = name;
        say(style.dim(`you are now ${whoami()}`));
        return true;
      }
      case ":click": {
        const button = item(arg, "button");
        if (button.confirm) say(style.dim(`confirm dialog: ${button.confirm.title} — ${button.confirm.text} → ${button.confirm.confirm}`));
        const request = driver.clickRequest(SANDBOX_USERS[user].slack, button.message, button.actionId as string, button.value);
        const result = await driver.send(request);
        if (result.status !== 200) say(style.red(`Slack got HTTP ${result.status} from the bot`));
        await showNew();
        return true;
      }
      case ":open":
        say(item(arg, "link").url);
        return true;
      case ":browse": {
        const link = item(arg, "link");
        const browser = new SandboxBrowser();
        await browser.signIn(sandbox.urls.web, SANDBOX_USERS[user].github);
        const result = await browser.browse(link.url as string);
        for (const hop of result.hops) say(style.dim(`  ${hop.method} ${hop.url} → ${hop.status}`));
        say(result.text.split("\n").slice(0, 12).join("\n"));
        say();
        await showNew();
        return true;
      }
      case ":clock": {
        const m = /^\+?(\d+)\s*(s|m|h)$/.exec(arg);
        if (!m) throw new Error("use :clock +56m (s, m or h)");
        sandbox.world.advance(Number(m[1]) * (m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 1000));
        say(style.dim(`sandbox GitHub clock is now ${new Date(sandbox.world.now()).toISOString()}`));
        return true;
      }
      default:
        throw new Error(`cannot parse "${line.trim()}" — try :help`);
    }
  }

  say(style.bold("ghconnect demo") + style.dim(` — bot on ${botUrl}, SQLite at ${join(dir, "demo.db")}`));
  say(`You are ${whoami()}, a GHES site admin in the #ghes-admins channel. Try: /ghconnect help  (:help for the shell)`);
  say();

  const rl = createInterface({ input: process.stdin, terminal: interactive, prompt: interactive ? style.bold(`${user}> `) : "" });
  let exitCode = 0;
  if (interactive) rl.prompt();
  for await (const line of rl) {
    if (!interactive && line.trim()) say(style.bold(`${user}> `) + line);
    let keepGoing = true;
    try {
      keepGoing = await run(line);
    } catch (error) {
      say(style.red(`error: ${(error as Error).message}`));
      if (!interactive) {
        exitCode = 1;
        keepGoing = false;
      }
    }
    if (!keepGoing) break;
    if (interactive) {
      rl.setPrompt(style.bold(`${user}> `));
      rl.prompt();
    }
  }
  rl.close();
  await stopBot();
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
