// The newcomer's first minute: the demo shell, driven by a piped scenario.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function demo(input: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/sandbox/demo.ts"], { input, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe("npm run demo", () => {
  it("prints the usage for a piped `/ghconnect help` and exits 0", () => {
    const { code, out } = demo("/ghconnect help\n:quit\n");
    expect(code).toBe(0);
    expect(out).toContain("ghconnect — GitHub Connect from Slack");
    expect(out).toContain("/ghconnect enable ORG");
  });

  it("switches users and shows each user's private replies", () => {
    const { code, out } = demo(":as mallory\n/ghconnect enable bad--org\n:quit\n");
    expect(code).toBe(0);
    expect(out).toContain("you are now mallory");
    expect(out).toContain("hyphens cannot be doubled");
  });

  it("exits non-zero on a line it cannot parse", () => {
    const { code, out } = demo("/ghconnect help\n:frobnicate\n/ghconnect help\n");
    expect(code).toBe(1);
    expect(out).toContain('cannot parse ":frobnicate"');
  });
});

describe("examples/tour.txt", () => {
  it("plays from enable to disconnect and exits 0", async () => {
    const { readFileSync } = await import("node:fs");
    const { code, out } = demo(readFileSync("examples/tour.txt", "utf8"));
    expect(code).toBe(0);
    expect(out).toContain("Connected acme");
    expect(out).toMatch(/Search: flaky[\s\S]*acme\/api#101/);
    expect(out).toContain("You are not in ghconnect's admin roster, so you cannot disconnect acme.");
    expect(out).toContain("Disconnected acme — approved by @U0BOB00001");
    expect(out).toMatch(/✅ \d+ entries, chain intact/);
  }, 120_000);
});
