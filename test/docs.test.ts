// What an operator reads before running anything: the README and .env.example must say the same
// thing about what to configure.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const README = readFileSync("README.md", "utf8");
const ENV_EXAMPLE = readFileSync(".env.example", "utf8");

/** Personal access token scopes GitHub defines that a GHES admin might be told to grant. */
const SCOPES = [
  "repo",
  "site_admin",
  "read:org",
  "admin:org",
  "read:enterprise",
  "admin:enterprise",
  "read:audit_log",
  "read:user",
  "user",
];

function scopesIn(text: string): string[] {
  return SCOPES.filter((scope) => new RegExp(`(?<![\\w:])${scope}(?![\\w:])`).test(text)).sort();
}

describe("the README and .env.example", () => {
  it("name the same scopes for GHES_TOKEN", () => {
    const envComment = /((?:#.*\n)+)GHES_TOKEN=/.exec(ENV_EXAMPLE)?.[1]?.split("\n").at(-2) ?? "";
    const access = /^- `GHES_TOKEN`:[\s\S]*?(?=\n- |\n\n)/m.exec(README)?.[0] ?? "";
    const table = /^\| `GHES_TOKEN` \|.*$/m.exec(README)?.[0] ?? "";
    expect(scopesIn(envComment)).toEqual(["repo", "site_admin"]);
    expect(scopesIn(access)).toEqual(["repo", "site_admin"]);
    expect(scopesIn(table)).toEqual(["repo", "site_admin"]);
  });
});
