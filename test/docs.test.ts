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

/** From "scopes" to the end of the sentence, on one line: the list an operator grants. */
function scopeList(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return /scopes .*?(?=\.(?: |$)| \|)/.exec(flat)?.[0] ?? "";
}

/** The README's Configuration table: each variable and its row. */
function configurationTable(): Map<string, string> {
  const section = /^## Configuration\n[\s\S]*?(?=\n## )/m.exec(README)?.[0] ?? "";
  const rows = new Map<string, string>();
  for (const row of section.split("\n").filter((l) => l.startsWith("| `")))
    for (const name of (row.split(" | ")[0] ?? "").matchAll(/`([A-Z_]+)`/g)) rows.set(name[1] as string, row);
  return rows;
}

describe("the README and .env.example", () => {
  const envComment = /((?:#.*\n)+)GHES_TOKEN=/.exec(ENV_EXAMPLE)?.[1]?.split("\n").at(-2) ?? "";
  const access = /^- `GHES_TOKEN`:[\s\S]*?(?=\n- |\n\n)/m.exec(README)?.[0] ?? "";
  const table = /^\| `GHES_TOKEN` \|.*$/m.exec(README)?.[0] ?? "";

  it("name the same scopes for GHES_TOKEN, word for word, and what each is for", () => {
    expect(scopeList(table)).not.toBe("");
    expect(scopeList(envComment)).toBe(scopeList(table));
    expect(scopeList(access)).toBe(scopeList(table));
    // What the code asks of GHES with it: site_admin for the version, users and statistics;
    // admin:enterprise for the audit log (which includes read:enterprise, the slug discovery's).
    expect(scopeList(table)).toMatch(/^scopes `site_admin` \(.+\) and `admin:enterprise` \(.*audit log.*`read:enterprise`.*\); no `repo`/);
    expect(scopesIn(scopeList(table))).toEqual(["admin:enterprise", "read:enterprise", "repo", "site_admin"]);
  });

  it("ask for no GHES_TOKEN scope elsewhere that the authoritative list does not grant", () => {
    const granted = scopesIn(scopeList(table).replace(/no `repo`.*$/, ""));
    const enterpriseRow = /^\| `GHES_ENTERPRISE` \|.*$/m.exec(README)?.[0] ?? "";
    const ownConnect = /^## GHES's own GitHub Connect\n[\s\S]*?(?=\n## )/m.exec(README)?.[0] ?? "";
    const tokenSentences = ownConnect.replace(/\s+/g, " ").match(/[^.]*GHES_TOKEN[^.]*\./g) ?? [];
    for (const text of [enterpriseRow, ...tokenSentences])
      for (const scope of scopesIn(text)) expect({ text, scope, granted: granted.includes(scope) }).toMatchObject({ granted: true });
  });

  it("list every variable of .env.example in the Configuration table, and the table's in .env.example (CLI-only ones aside)", () => {
    const rows = configurationTable();
    const envVars = [...ENV_EXAMPLE.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1] as string);
    expect(envVars.filter((name) => !rows.has(name))).toEqual([]);
    const cliOnly = [...rows].filter(([, row]) => / only$/.test(row.split(" | ")[1] ?? "")).map(([name]) => name);
    expect(cliOnly).toEqual(["GHCONNECT_NEW_ENCRYPTION_KEY"]);
    expect([...rows.keys()].filter((name) => !envVars.includes(name) && !cliOnly.includes(name))).toEqual([]);
  });

  it("tell a new admin how the first admin gets in, and that GHCONNECT_ADMINS only seeds an empty roster", () => {
    expect(configurationTable().get("GHCONNECT_ADMINS")).toMatch(/required for the first start \(empty roster\)/);
    const install = /^## Installing the Slack app\n[\s\S]*?(?=\n\*\*|\n## )/m.exec(README)?.[0] ?? "";
    expect(install).toContain("Set `GHCONNECT_ADMINS=<your member ID>:<your GHES login>`");
    expect(install).toMatch(/Copy\s+member ID/);
    expect(install.replace(/\s+/g, " ")).toMatch(/editing `GHCONNECT_ADMINS` changes nothing/);
    expect(ENV_EXAMPLE).toMatch(
      /# Required for the first start \(empty roster\)[\s\S]*?editing it afterwards changes nothing[\s\S]*?\nGHCONNECT_ADMINS=/,
    );
  });

  it("say the GHES OAuth app is needed for `admins add` and GHES search, and that the approval rule covers feature changes", () => {
    const rows = configurationTable();
    expect(rows.get("GHES_OAUTH_CLIENT_ID")).toMatch(/recommended .*needed for `admins add` entries to become active and for GHES search/);
    expect(ENV_EXAMPLE.replace(/\n# /g, " ")).toMatch(/needed for `admins add` entries to become active and for GHES search/);
    expect(rows.get("GHCONNECT_DISCONNECT_APPROVAL")).toMatch(/native feature change/);
    expect(ENV_EXAMPLE.replace(/\n# /g, " ")).toMatch(
      /approve a disconnect and a native feature change[^\n]*\nGHCONNECT_DISCONNECT_APPROVAL=/,
    );
  });

  it("show every line `ghconnect check` prints in the terminal in the README's sample (test/cli-check.test.ts runs the same day-one setup)", () => {
    const sample = /^\$ npx ghconnect check\n([\s\S]*?)\n```/m.exec(README)?.[1] ?? "";
    const names = sample
      .split("\n")
      .slice(1, -1)
      .map((l) => /^[✓✗!] ([^:(]+?)(?: \(|:)/.exec(l)?.[1]);
    for (const name of [
      "Config",
      "GHES sign-in",
      "License",
      "Database",
      "Encryption key",
      "Admin roster",
      "Slack",
      "Audit witness",
      "GHES",
      "GHES audit log",
    ])
      expect(names).toContain(name);
    const failed = sample.split("\n").filter((l) => l.startsWith("✗ ")).length;
    expect(sample).toContain(`❌ ${failed} checks failed. Nothing was changed.`);
  });

  it("point to manual registration for enterprise accounts instead of saying only organizations connect", () => {
    const noApi = /^## What GitHub offers no API for\n[\s\S]*?(?=\n## )/m.exec(README)?.[0] ?? "";
    expect(noApi).not.toMatch(/first release connects organizations/);
    expect(noApi).toContain("(#connecting-an-enterprise-account-ghconnect-enable-enterpriseslug)");
    expect(README).toMatch(/^## Connecting an enterprise account: `\/ghconnect enable enterprise:SLUG`$/m);
  });
});
