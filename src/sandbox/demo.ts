// `npm run demo`: the sandbox and the bot on SQLite, and a terminal to drive them as Slack users
// (SPEC §9). Lines come from the keyboard, or from standard input when it is not a terminal, so a
// scenario can be piped in (`npm run demo < examples/tour.txt`). An operator's first questions are
// about policy and failure, so the demo also runs under the four-eyes policy (`--approval peer`),
// behind a corporate proxy (`--proxy`, then `:proxy refuse api.github.com`), against GHE.com
// (`--ghe-com`: GitHub under SUBDOMAIN.ghe.com's names, behind the sandbox's proxy), and with an
// expired license (`:license expire`); a scenario names its options on its first line (`#!demo --proxy`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createLogger } from "../log.js";
import { startBotOnSandbox } from "./bot.js";
import { SandboxBrowser } from "./browser.js";
import { registerAsEnterpriseOwner } from "./enterprise-owner.js";
import { type NativeClick, nativeClick } from "./github/ghes-audit.js";
import { SANDBOX_ADMIN_CHANNEL, SANDBOX_USERS, type SandboxUserName, startSandbox } from "./index.js";
import { type SandboxProxy, startProxy } from "./proxy.js";
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
  :browse N         follow link N in a browser signed in as the user's github.com and GHES accounts
  :register N       for enable enterprise:SLUG: follow link N's guide as the enterprise owner (register the
                    app on GitHub, give ghconnect its credentials, install it)
  :open N           print link N, to open in a real browser
  :clock +56m       move the sandbox GitHub clock forward (s, m, h)
  :proxy refuse H   the proxy refuses CONNECT to H (github.com, api.github.com, uploads.github.com);
                    :proxy allow H|all undoes it (needs --proxy)
  :license expire [YYYY-MM-DD]   the GHES license expired (a month ago by default); :license renew
  :ghes-settings connect [ORG]|disconnect|renew-token|upload-license|upload-metrics
                    you click in GHES's own GitHub Connect settings (as your GHES login): GHES
                    records the audit event, and the bot's watcher reads it at once
  :ghes-proxy URL|none   GHES's own proxy setting (Management Console), which \`check\` compares
  :help, :quit
Options (on the command line, or on a scenario's first line as #!demo …):
  --approval self|peer   GHCONNECT_DISCONNECT_APPROVAL (default self; peer = another admin approves)
  --proxy                the bot reaches GitHub through a sandbox proxy (HTTPS_PROXY)
  --ghe-com[=SUBDOMAIN]  GitHub is GHE.com (data residency): SUBDOMAIN.ghe.com (default acme), and the bot
                         is given only GITHUB_URL; it derives the API and uploads hosts, through a proxy`;

interface DemoOptions {
  approval: "self" | "peer";
  proxy: boolean;
  /** GHE.com's subdomain, when GitHub plays GHE.com. */
  gheCom?: string;
}

/** Reads the demo's options (`--approval peer`, `--proxy`, `--ghe-com`); a sentence for anything else. */
function parseDemoOptions(args: string[], base: DemoOptions): DemoOptions {
  const options = { ...base };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--proxy") options.proxy = true;
    else if (flag === "--ghe-com") {
      const subdomain = (inline ?? "acme").toLowerCase();
      if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(subdomain)) throw new Error(`--ghe-com takes a subdomain, not ${subdomain}`);
      options.gheCom = subdomain;
    } else if (flag === "--approval") {
      const value = inline ?? args[++i];
      if (value !== "self" && value !== "peer") throw new Error(`--approval takes self or peer, not ${value ?? "nothing"}`);
      options.approval = value;
    } else throw new Error(`unknown demo option ${arg}; the options are --approval self|peer, --proxy and --ghe-com[=SUBDOMAIN]`);
  }
  // GHE.com's names resolve only through the sandbox's own proxy, which --ghe-com starts.
  if (options.proxy && options.gheCom) throw new Error("--ghe-com already puts GitHub behind the sandbox's proxy; leave out --proxy");
  return options;
}

async function main(): Promise<number> {
  const fromEnv = process.env.GHCONNECT_DISCONNECT_APPROVAL === "peer" ? "peer" : "self";
  let options: DemoOptions;
  try {
    options = parseDemoOptions(process.argv.slice(2), { approval: fromEnv, proxy: false });
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    return 2;
  }
  const rl = createInterface({ input: process.stdin, terminal: interactive, prompt: interactive ? style.bold("alice> ") : "" });
  const lines = rl[Symbol.asyncIterator]();
  // A piped scenario may name its options on its first line, so `npm run demo < file` needs no flags.
  let pending: string | undefined;
  if (!interactive) {
    const first = await lines.next();
    const header = first.done ? undefined : /^#!\s*demo\b(.*)$/.exec(first.value.trim());
    try {
      if (header) options = parseDemoOptions((header[1] ?? "").trim().split(/\s+/).filter(Boolean), options);
      else if (!first.done) pending = first.value;
    } catch (error) {
      process.stderr.write(`demo: the scenario's first line: ${(error as Error).message}\n`);
      rl.close();
      return 2;
    }
  }

  const dir = mkdtempSync(join(tmpdir(), "ghconnect-demo-"));
  const sandbox = await startSandbox(options.gheCom ? { gheCom: { subdomain: options.gheCom } } : {});
  const proxy: SandboxProxy | undefined = options.proxy ? await startProxy() : undefined;
  const {
    driver,
    bot,
    url: botUrl,
    config,
    stop: stopBot,
  } = await startBotOnSandbox(sandbox, {
    databaseUrl: `sqlite:${join(dir, "demo.db")}`,
    log: createLogger(process.env.DEMO_LOG_LEVEL ?? "silent"),
    env: { GHCONNECT_DISCONNECT_APPROVAL: options.approval, ...(proxy ? { HTTPS_PROXY: proxy.url } : {}) },
  });
  const transcript = new Transcript(style);
  const seen = new Map<PostedMessage, number>();
  let user: SandboxUserName = "alice";

  const say = (s = "") => process.stdout.write(`${s}\n`);
  const whoami = () => `${user} (${SANDBOX_USERS[user].slack})`;
  /** The sandbox's host:port standing in for a GitHub host, as the proxy sees CONNECT targets. */
  const githubHost = (name: string) => {
    const url = { "github.com": sandbox.urls.web, "api.github.com": sandbox.urls.api, "uploads.github.com": sandbox.urls.uploads }[name];
    if (!url)
      throw new Error(`${name || "which host?"}: the proxy stands between the bot and github.com, api.github.com, uploads.github.com`);
    return new URL(url).host;
  };

  const activity = () => sandbox.slack.messages.reduce((n, m) => n + 1 + m.updates, 0);

  /**
   * Prints what the current user can now see that is new or changed, once things settle. Given
   * the activity before a command, it first waits (up to 5 s) for the command's first message:
   * slow work (a preflight) answers after the ack, and a quiet moment before it is not the end.
   */
  async function showNew(before?: number): Promise<void> {
    for (let i = 0; before !== undefined && activity() === before && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    let last = -1;
    for (let i = 0; i < 100; i++) {
      const signature = activity();
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
    if (!found) throw new Slip(`there is no ${kind} ${arg}`);
    if (found.kind !== kind)
      throw new Slip(`${arg} is a ${found.kind}; use ${found.kind === "link" ? ":browse or :open" : ":click"} ${arg}`);
    return found;
  };

  async function run(line: string): Promise<boolean> {
    const [head = "", ...rest] = line.trim().split(/\s+/);
    const arg = rest.join(" ");
    if (line.trim() === "" || line.trim().startsWith("#")) return true;
    if (head === "/ghconnect") {
      const before = activity();
      // Slack's client turns "@name" into a mention (<@U…>) before the command is sent; so does the demo for its users.
      const text = arg.replace(/(^|\s)@(\w+)/g, (m, space: string, name: string) =>
        name.toLowerCase() in SANDBOX_USERS ? `${space}<@${SANDBOX_USERS[name.toLowerCase() as SandboxUserName].slack}>` : m,
      );
      const result = await driver.command(SANDBOX_USERS[user].slack, text);
      if (result.status !== 200) say(style.red(`Slack got HTTP ${result.status} from the bot`));
      await showNew(before);
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
        const before = activity();
        const result = await driver.send(request);
        if (result.status !== 200) say(style.red(`Slack got HTTP ${result.status} from the bot`));
        await showNew(before);
        return true;
      }
      case ":open":
        say(item(arg, "link").url);
        return true;
      case ":browse": {
        const link = item(arg, "link");
        // The enterprise guide ends in a form an owner fills in with the app's credentials: a bare browse posts it empty.
        if (/\/ghconnect\/enterprise\/register\b/.test(link.url ?? ""))
          throw new Slip(`link ${arg} is the enterprise registration guide: use :register ${arg}`);
        const browser = new SandboxBrowser({ fetch: sandbox.fetch });
        await browser.signIn(sandbox.urls.web, SANDBOX_USERS[user].github);
        await browser.signIn(sandbox.urls.ghes, SANDBOX_USERS[user].ghes);
        const result = await browser.browse(link.url as string);
        for (const hop of result.hops) {
          say(style.dim(`  ${hop.method} ${hop.url} → ${hop.status}`));
          if (hop.pressed) say(style.dim(`    page "${hop.pressed.heading}": pressed "${hop.pressed.button}"`));
        }
        say(result.text.split("\n").slice(0, 12).join("\n"));
        // github.com answers 404 (not "forbidden") on an organization's settings to anyone who is not
        // its owner, as the stand-in does; the narrator says what a newcomer would otherwise guess at.
        const last = result.hops[result.hops.length - 1];
        const orgSettings =
          last && last.status === 404 ? /\/organizations\/([^/]+)\/settings\/apps\/new/.exec(new URL(last.url).pathname) : null;
        if (orgSettings)
          say(
            style.dim(
              `(github.com answers 404 on ${orgSettings[1]}'s settings to anyone who is not an owner of ${orgSettings[1]}: ${SANDBOX_USERS[user].github} is not. Only an owner can create the app — in the demo, alice's account octocat: :as alice, then :browse again.)`,
            ),
          );
        say();
        await showNew();
        return true;
      }
      case ":register": {
        const link = item(arg, "link");
        const browser = new SandboxBrowser({ fetch: sandbox.fetch });
        await browser.signIn(sandbox.urls.web, SANDBOX_USERS[user].github);
        const run = await registerAsEnterpriseOwner({
          guideUrl: link.url as string,
          githubWebUrl: sandbox.urls.web,
          githubLogin: SANDBOX_USERS[user].github,
          browser,
          fetch: sandbox.fetch,
        });
        for (const step of run.steps) say(style.dim(`  ${step}`));
        for (const hop of run.result.hops) say(style.dim(`  ${hop.method} ${hop.url} → ${hop.status}`));
        say(run.result.text.split("\n").slice(0, 12).join("\n"));
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
      case ":proxy": {
        if (!proxy) throw new Error("the demo runs without a proxy; start it with --proxy (or a first line #!demo --proxy)");
        const [verb = "", name = ""] = rest;
        if (verb === "allow" && name === "all") {
          proxy.refuse.clear();
          say(style.dim("the proxy allows every host again"));
          return true;
        }
        const host = githubHost(name);
        if (verb === "refuse") proxy.refuse.add(host);
        else if (verb === "allow") proxy.refuse.delete(host);
        else throw new Error("use :proxy refuse HOST or :proxy allow HOST|all");
        say(style.dim(`the proxy ${verb === "refuse" ? "refuses" : "allows"} CONNECT to ${name} (the sandbox's ${host})`));
        return true;
      }
      case ":license": {
        const [verb = "", date] = rest;
        const world = sandbox.world;
        if (verb === "expire") {
          const at = date ? Date.parse(`${date}T23:59:59Z`) : world.now() - 30 * 86_400_000;
          if (Number.isNaN(at) || at >= world.now()) throw new Error("use :license expire YYYY-MM-DD with a date in the past");
          world.licenseExpiresAt = new Date(at).toISOString();
        } else if (verb === "renew") {
          world.licenseExpiresAt = new Date(world.now() + 365 * 86_400_000).toISOString();
        } else throw new Error("use :license expire [YYYY-MM-DD] or :license renew");
        say(style.dim(`the GHES license of ${world.licenseCompany} now expires on ${world.licenseExpiresAt.slice(0, 10)}`));
        return true;
      }
      case ":ghes-settings": {
        const [verb = "", org] = rest;
        const clicks: Record<string, NativeClick> = {
          connect: "connect",
          disconnect: "disconnect",
          "renew-token": "renew-token",
          "upload-license": "upload-license-usage",
          "upload-metrics": "upload-usage-metrics",
        };
        const click = clicks[verb];
        if (!click) throw new Error("use :ghes-settings connect [ORG]|disconnect|renew-token|upload-license|upload-metrics");
        const event = nativeClick(sandbox.world, click, SANDBOX_USERS[user].ghes, org ?? "acme");
        say(style.dim(`${SANDBOX_USERS[user].ghes} clicked in GHES's GitHub Connect settings: GHES recorded ${event.action}`));
        // The watcher looks each minute; the demo does not make you wait for it.
        await bot.native.look();
        await showNew();
        return true;
      }
      case ":ghes-proxy": {
        const [value = ""] = rest;
        if (value !== "none" && !/^https?:\/\/\S+$/.test(value)) throw new Error("use :ghes-proxy http://HOST:PORT or :ghes-proxy none");
        sandbox.world.applianceHttpProxy = value === "none" ? null : value;
        say(style.dim(`GHES's own proxy (Management Console → Privacy) is now ${value}`));
        return true;
      }
      default:
        throw new Error(`cannot parse "${line.trim()}" — try :help`);
    }
  }

  say(style.bold("ghconnect demo") + style.dim(` — bot on ${botUrl}, SQLite at ${join(dir, "demo.db")}`));
  say(
    style.dim(
      `Disconnect approval: ${options.approval === "peer" ? "peer (an admin other than the requester approves)" : "self (any admin, the requester included)"}${proxy ? `; GitHub through the proxy ${new URL(proxy.url).host}` : ""}${
        sandbox.proxy
          ? `; GitHub is GHE.com: GITHUB_URL=${sandbox.urls.web} only (API ${config.GITHUB_API_URL}, uploads ${config.GITHUB_UPLOADS_URL}, derived), reached through the proxy ${new URL(sandbox.proxy.url).host}`
          : ""
      }`,
    ),
  );
  say(`You are ${whoami()}, a GHES site admin in the #ghes-admins channel. Try: /ghconnect help  (:help for the shell)`);
  say();

  let exitCode = 0;
  if (interactive) rl.prompt();
  for (;;) {
    let line: string;
    if (pending !== undefined) {
      line = pending;
      pending = undefined;
    } else {
      const next = await lines.next();
      if (next.done) break;
      line = next.value;
    }
    if (!interactive && line.trim()) say(style.bold(`${user}> `) + line);
    let keepGoing = true;
    try {
      keepGoing = await run(line);
    } catch (error) {
      say(style.red(`error: ${(error as Error).message}`));
      // A slip (no such link, the wrong verb for it) is said and the scenario goes on.
      if (!interactive && !(error instanceof Slip)) {
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
  await proxy?.stop();
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
  return exitCode;
}

/** A mistake in a demo line that changes nothing (no such link, the wrong verb): said, and the session goes on. */
class Slip extends Error {}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
