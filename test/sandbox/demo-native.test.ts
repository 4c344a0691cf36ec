// The demo plays "an admin clicks in GHES's own GitHub Connect settings": the bot notices, says
// so in the admin channel, shows it in `status`, and governs a native feature through a card.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

function demo(input: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/sandbox/demo.ts"], { input, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe("the demo's GHES settings", () => {
  it("examples/native-connect.txt: a disconnect in GHES's settings is posted, status shows it, license sync goes through a card", () => {
    const { code, out } = demo(readFileSync("examples/native-connect.txt", "utf8"));
    expect(code).toBe(0);
    expect(out).toMatch(
      /👀 GitHub Connect was disabled in GHES's settings by @bob at .* UTC, not through ghconnect \(event `dotcom_connection.destroy`/,
    );
    expect(out).toContain("Connection: not connected: disabled");
    expect(out).toContain("Data that starts flowing: each GHES user's user ID and email addresses");
    expect(out).toContain("✅ GitHub Connect in GHES: on, connected to acme since");
    expect(out).toContain("— confirmed by a person: GitHub publishes no audit event for this setting.");
    expect(out).toContain("License sync `license-sync` — ✅ on (by @U0ALICE001");
  }, 90_000);

  it("a :ghes-settings verb it does not know says which ones it has", () => {
    const { code, out } = demo(":ghes-settings frob\n");
    expect(code).toBe(1);
    expect(out).toContain("use :ghes-settings connect [ORG]|disconnect|renew-token|upload-license|upload-metrics");
  }, 60_000);
});
