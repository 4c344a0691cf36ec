// What an operator sees when the environment is wrong: one line naming the variable, exit 2.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
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
    ["GHCONNECT_ADMINS", "alice", /SlackUserId:ghes-login/],
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
});
