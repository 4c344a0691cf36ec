// What an operator sees when the environment is wrong: one line naming the variable (a heading
// and a line per variable when there are several), exit 2.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "dotenv";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { testEnv } from "./helpers/bot.js";

const REQUIRED = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_ADMIN_CHANNEL",
  "GHES_URL",
  "GHES_TOKEN",
  "PUBLIC_URL",
  "GHCONNECT_ENCRYPTION_KEY",
];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent/.env" },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function startWith(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
    // Only what we pass: no .env file is read because DOTENV_CONFIG_PATH points nowhere.
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent/.env", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: result.status, stderr: result.stderr.trim() };
}

describe("configuration at start-up", () => {
  it.each(REQUIRED)("without %s, start-up stops with one line naming it and exit code 2", (variable) => {
    const env = testEnv({ DATABASE_URL: "sqlite::memory:" });
    delete env[variable];
    const { code, stderr } = startWith(env);
    expect(code).toBe(2);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^ghconnect: cannot start: ${variable} is missing: it should`));
  });

  it.each([
    ["SLACK_BOT_TOKEN", "xoxp-user-token", /should be the bot token, xoxb-/],
    ["GHCONNECT_ENCRYPTION_KEY", "c2hvcnQ=", /32 random bytes in base64 \(openssl rand -base64 32\)/],
    ["SLACK_ADMIN_CHANNEL", "#ghes-admins", /channel id like C0123ABCD/],
    ["GHES_URL", "ghes.example.com", /http\(s\) URL/],
    ["PORT", "http", /TCP port number/],
    ["DATABASE_URL", "mysql://x", /sqlite:\.\/data\/ghconnect\.db/],
    ["GHCONNECT_ADMINS", "alice", /SlackMemberId:ghes-login \(Slack: profile → ⋮ → Copy member ID\)/],
    ["GHCONNECT_DISCONNECT_APPROVAL", "anyone", /self \(any admin\) or peer/],
  ])("a malformed %s is named with what it should look like", (variable, value, expected) => {
    expect(() => loadConfig(testEnv({ [variable]: value }))).toThrow(ConfigError);
    try {
      loadConfig(testEnv({ [variable]: value }));
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message).toMatch(expected);
      expect((error as Error).message).not.toContain(value === "xoxp-user-token" ? value : "\u0000");
    }
  });

  it("SLACK_ADMIN_CHANNEL=#ghes-admins in .env (dotenv drops it as a comment) is named as cut by the #, not as missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "ghconnect-env-"));
    const { SLACK_ADMIN_CHANNEL: _channel, ...rest } = testEnv({ DATABASE_URL: "sqlite::memory:" });
    const file = join(dir, ".env");
    writeFileSync(
      file,
      `${Object.entries(rest)
        .map(([k, v]) => `${k}="${v}"`)
        .join("\n")}\nSLACK_ADMIN_CHANNEL=#ghes-admins\n`,
    );
    const r = spawnSync(process.execPath, ["bin/ghconnect.js", "check"], {
      env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: file },
      encoding: "utf8",
      timeout: 20_000,
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr.trim()).toBe(
      "ghconnect: SLACK_ADMIN_CHANNEL is empty: in .env an unquoted # starts a comment, so everything from the # on in the SLACK_ADMIN_CHANNEL= line is dropped (quote the value if it really holds a #); it should be a channel id like C0123ABCD (not a #name). See .env.example.",
    );
    expect(r.status).toBe(2);
  });

  it("migrate against a database that refuses the connection names DATABASE_URL and the fix, not only ECONNREFUSED", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const r = spawnSync(process.execPath, ["bin/ghconnect.js", "migrate"], {
      env: {
        PATH: process.env.PATH ?? "",
        DOTENV_CONFIG_PATH: "/nonexistent/.env",
        DATABASE_URL: `postgres://u:secret-pw@127.0.0.1:${port}/db`,
      },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe(
      `ghconnect: migrate: cannot use the database at 127.0.0.1:${port}/db (connect ECONNREFUSED 127.0.0.1:${port}): check DATABASE_URL and that the database is up.\n`,
    );
    expect(r.status).toBe(1);
  });

  it("a signing secret of the wrong shape is told the shape Slack gives it", () => {
    expect(() => loadConfig(testEnv({ SLACK_SIGNING_SECRET: "abc" }))).toThrow(
      "SLACK_SIGNING_SECRET is malformed: it should be the app's Signing Secret, 32 hexadecimal characters (Basic Information → App Credentials → Signing Secret; not the Client Secret or the Verification Token)",
    );
  });

  it("a malformed variable stops the real process with exit code 2 too", () => {
    const { code, stderr } = startWith(testEnv({ DATABASE_URL: "sqlite::memory:", GHCONNECT_DISCONNECT_APPROVAL: "nobody" }));
    expect(code).toBe(2);
    expect(stderr).toContain("GHCONNECT_DISCONNECT_APPROVAL is malformed");
  });

  it("defaults fill in what may be omitted", () => {
    const config = loadConfig(testEnv());
    expect(config.GITHUB_URL).toBe("https://github.com");
    expect(config.GITHUB_API_URL).toBe("https://api.github.com");
    expect(config.GITHUB_UPLOADS_URL).toBe("https://uploads.github.com");
    expect(config.SLACK_API_URL).toBe("https://slack.com/api/");
    expect(config.PORT).toBe(3000);
    expect(config.GHCONNECT_DISCONNECT_APPROVAL).toBe("self");
    expect(config.GHCONNECT_APPROVAL_TTL).toBe(15 * 60_000);
    expect(config.SLACK_APP_TOKEN).toBeUndefined();
    expect(config.GHCONNECT_ADMINS).toEqual([
      { slackUserId: "U0ALICE001", ghesLogin: "alice" },
      { slackUserId: "U0BOB00001", ghesLogin: "bob" },
    ]);
  });

  it("one start lists every missing variable, one line each under one heading, none with an empty hint", () => {
    const env = testEnv({ DATABASE_URL: "sqlite::memory:" });
    for (const variable of REQUIRED) delete env[variable];
    const { code, stderr } = startWith(env);
    expect(code).toBe(2);
    const lines = stderr.split("\n");
    expect(lines[0]).toBe("ghconnect: cannot start: 7 configuration variables are missing or malformed:");
    expect(lines.slice(1, -1)).toEqual(REQUIRED.map((v) => expect.stringMatching(new RegExp(`^  ${v} is missing: it should \\S`))));
    expect(lines.at(-1)).toBe("See .env.example.");
    expect(stderr).not.toContain("()");
  });

  it("the whole .env.example copied as it is names every variable still to fill in, the placeholder bot token among them", () => {
    const example = parse(readFileSync(".env.example"));
    expect(() => loadConfig(example)).toThrow(ConfigError);
    try {
      loadConfig(example);
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems.map((p) => p.variable)).toEqual([
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_ADMIN_CHANNEL",
        "GHES_URL",
        "GHES_TOKEN",
        "GHCONNECT_ENCRYPTION_KEY",
      ]);
      expect((error as Error).message).toContain(
        "  SLACK_BOT_TOKEN is a placeholder (as in .env.example), not a token: it should be the bot token, xoxb-…",
      );
      expect((error as Error).message).not.toContain("()");
    }
  });

  it.each(["xoxb-...", "xoxb-…", "xoxb-your-token", "xoxb-xxxxxxxx", "xoxb-<your-bot-token>"])(
    "the placeholder SLACK_BOT_TOKEN=%s is refused, naming the variable",
    (value) => {
      expect(() => loadConfig(testEnv({ SLACK_BOT_TOKEN: value }))).toThrow(
        "SLACK_BOT_TOKEN is a placeholder (as in .env.example), not a token: it should be the bot token, xoxb-… (OAuth & Permissions → Bot User OAuth Token)",
      );
    },
  );

  it("a real-looking bot token is never taken for a placeholder", () => {
    expect(loadConfig(testEnv({ SLACK_BOT_TOKEN: "xoxb-1234567890-9876543210-YourExampleHereAbc123" })).SLACK_BOT_TOKEN).toBe(
      "xoxb-1234567890-9876543210-YourExampleHereAbc123",
    );
  });

  it("a bare number for GHCONNECT_APPROVAL_TTL is refused with the units spelled out; with a unit it is read", () => {
    expect(() => loadConfig(testEnv({ GHCONNECT_APPROVAL_TTL: "15" }))).toThrow(
      new ConfigError("GHCONNECT_APPROVAL_TTL", "=15 has no unit: write 15m (minutes) or 900s"),
    );
    expect(() => loadConfig(testEnv({ GHCONNECT_APPROVAL_TTL: "15" }))).toThrow(
      "GHCONNECT_APPROVAL_TTL=15 has no unit: write 15m (minutes) or 900s",
    );
    expect(() => loadConfig(testEnv({ GHCONNECT_APPROVAL_TTL: "0m" }))).toThrow(
      "GHCONNECT_APPROVAL_TTL is malformed: it should be longer than zero, e.g. 15m",
    );
    expect(loadConfig(testEnv({ GHCONNECT_APPROVAL_TTL: "900s" })).GHCONNECT_APPROVAL_TTL).toBe(900_000);
    expect(loadConfig(testEnv({ GHCONNECT_APPROVAL_TTL: "2h" })).GHCONNECT_APPROVAL_TTL).toBe(7_200_000);
  });

  it("GHES_MANAGE_URL without its password is listed together with the other problems", () => {
    expect(() => loadConfig(testEnv({ GHES_MANAGE_URL: "https://ghes.example.com:8443", PORT: "http" }))).toThrow(
      "2 configuration variables are missing or malformed:\n" +
        "  PORT is malformed: it should be a TCP port number, e.g. 3000\n" +
        "  GHES_MANAGE_PASSWORD is required when GHES_MANAGE_URL is set (the Management Console password)",
    );
  });
});

describe("GHE.com (data residency)", () => {
  it("GITHUB_URL=https://SUBDOMAIN.ghe.com gives api.SUBDOMAIN.ghe.com and uploads.SUBDOMAIN.ghe.com", () => {
    const config = loadConfig(testEnv({ GITHUB_URL: "https://Octocorp.ghe.com/" }));
    expect(config.GITHUB_URL).toBe("https://Octocorp.ghe.com");
    expect(config.GITHUB_API_URL).toBe("https://api.octocorp.ghe.com");
    expect(config.GITHUB_UPLOADS_URL).toBe("https://uploads.octocorp.ghe.com");
  });

  it("an explicit GITHUB_API_URL or GITHUB_UPLOADS_URL still wins over the derived one", () => {
    const config = loadConfig(
      testEnv({
        GITHUB_URL: "https://octocorp.ghe.com",
        GITHUB_API_URL: "https://gateway.example.com/ghe-api",
        GITHUB_UPLOADS_URL: "https://gateway.example.com/ghe-uploads",
      }),
    );
    expect(config.GITHUB_API_URL).toBe("https://gateway.example.com/ghe-api");
    expect(config.GITHUB_UPLOADS_URL).toBe("https://gateway.example.com/ghe-uploads");
  });

  it("a GHE.com GITHUB_URL with a github.com API URL is refused, naming both and the fix", () => {
    expect(() => loadConfig(testEnv({ GITHUB_URL: "https://octocorp.ghe.com", GITHUB_API_URL: "https://api.github.com" }))).toThrow(
      "GITHUB_API_URL=https://api.github.com is on github.com but GITHUB_URL=https://octocorp.ghe.com is GHE.com: unset GITHUB_API_URL (it becomes https://api.octocorp.ghe.com) or set it to that",
    );
  });

  it("a github.com GITHUB_URL (the default) with a GHE.com uploads URL is refused, naming both", () => {
    expect(() => loadConfig(testEnv({ GITHUB_UPLOADS_URL: "https://uploads.octocorp.ghe.com" }))).toThrow(
      "GITHUB_UPLOADS_URL=https://uploads.octocorp.ghe.com is on GHE.com but GITHUB_URL=https://github.com is github.com: set GITHUB_URL=https://SUBDOMAIN.ghe.com for GHE.com, or unset GITHUB_UPLOADS_URL",
    );
  });
});

describe("the ghconnect process", () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = undefined;
  });

  it("a port already in use stops start-up with one line saying so, exit code 2, no stack trace", async () => {
    const server = createServer();
    blocker = server;
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
    );
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        DOTENV_CONFIG_PATH: "/nonexistent/.env",
        ...testEnv({ DATABASE_URL: "sqlite::memory:", PORT: String(port) }),
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    expect(stderr).toBe(
      `ghconnect: cannot start: port ${port} is in use (another ghconnect or another program). Set PORT to a free port or stop the other program.\n`,
    );
    expect(code).toBe(2);
  });

  it("`ghconnect` with no command prints the usage on stderr and exits 2; `ghconnect help` prints it on stdout and exits 0", () => {
    const bare = cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toMatch(/^ghconnect: no command given\nusage: ghconnect <command>\n/);
    const help = cli(["help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: ghconnect <command>\n/);
  });
});
