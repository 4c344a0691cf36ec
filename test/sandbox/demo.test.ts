// The newcomer's first minute: the demo shell, driven by a piped scenario.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

function demo(input: string, args: string[] = []) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/sandbox/demo.ts", ...args], {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
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

  it("a non-owner following the GitHub link gets GitHub's 404, and the demo says why (only an owner of acme creates the app)", () => {
    const { code, out } = demo("/ghconnect enable acme\n:click 2\n:as mallory\n:browse 5\n:quit\n");
    expect(code).toBe(0);
    expect(out).toMatch(/POST \S+\/organizations\/acme\/settings\/apps\/new\S* → 404/);
    expect(out).toContain(
      "(github.com answers 404 on acme's settings to anyone who is not an owner of acme: ghost is not. Only an owner can create the app — in the demo, alice's account octocat: :as alice, then :browse again.)",
    );
  }, 60_000);

  it(":browse on a sign-in link shows the confirmation page's heading and the button it pressed, then the linked page", () => {
    const { code, out } = demo("/ghconnect link\n:browse 1\n:quit\n");
    expect(code).toBe(0);
    expect(out).toMatch(
      /GET \S+\/ghconnect\/link\/start\?state=\S+ → 200\n {4}page "Link GHES \(127\.0\.0\.1:\d+\) to the Slack user U0ALICE001\?": pressed "I am U0ALICE001: continue to GHES \(127\.0\.0\.1:\d+\)"\n\s+POST \S+\/ghconnect\/link\/start → 302/,
    );
    expect(out).toContain("You are alice on GHES.");
  }, 60_000);

  it("a slip in a piped session (no such link, :browse on the enterprise guide) is said and the session goes on; @name of a sandbox user becomes a mention", () => {
    const { code, out } = demo(
      "/ghconnect enable enterprise:acme-corp\n:click 2\n:browse 5\n:open 99\n:browse 99\n/ghconnect admins add @mallory dave\n:quit\n",
    );
    expect(code).toBe(0);
    expect(out).toContain("error: link 5 is the enterprise registration guide: use :register 5");
    expect(out).not.toContain("/ghconnect/enterprise/credentials → 422");
    expect(out).toContain("error: there is no link 99");
    expect(out).toContain("`dave` is not a site administrator on GHES now, so @U0MALLORY1 was not added.");
  }, 60_000);

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

    // The README's example is this run: the same prompts, and mentions as the demo prints them.
    const readme = readFileSync("README.md", "utf8");
    const example = /## What it looks like[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const mentions = example.match(/@\w+/g) ?? [];
    expect(mentions.length).toBeGreaterThan(1);
    for (const mention of mentions) expect(out).toContain(mention);
    const prompts = example.split("\n").filter((l) => /^\w+> /.test(l));
    expect(prompts.length).toBeGreaterThan(5);
    for (const prompt of prompts) expect(out).toContain(prompt.replace(/\s+#.*$/, ""));
    // What the admin channel shows of a refused attempt is in the example too, as the demo prints it.
    const refusals = out.split("\n").filter((l) => l.startsWith("🚫 "));
    expect(refusals.length).toBeGreaterThan(0);
    for (const line of refusals) expect(example.split("\n")).toContain(line);
  }, 120_000);
});

describe("the demo's policies and failures", () => {
  const example = (name: string) => readFileSync(`examples/${name}.txt`, "utf8");

  it("examples/peer-approval.txt: the requester's own click is refused, another admin's disconnects", () => {
    const { code, out } = demo(example("peer-approval"));
    expect(code).toBe(0);
    expect(out).toContain("Disconnect approval: peer (an admin other than the requester approves)");
    expect(out).toContain(
      ":no_entry: This disconnect needs a second admin: @U0ALICE001 asked for it, so another admin must approve (GHCONNECT_DISCONNECT_APPROVAL=peer). Nothing was changed.",
    );
    expect(out).toContain("is waiting for another admin's approval; expires");
    expect(out).toContain("✅ Disconnected acme — approved by @U0BOB00001");
    expect(out).toMatch(/Showing the newest 6 of \d+ entries/);
  }, 120_000);

  it("--approval peer on the command line sets the disconnect policy", () => {
    const { code, out } = demo("/ghconnect help\n:quit\n", ["--approval", "peer"]);
    expect(code).toBe(0);
    expect(out).toContain("Disconnect approval: peer");
  });

  it("an unknown option is refused with the options there are", () => {
    const { code, err } = demo(":quit\n", ["--approvals=peer"]);
    expect(code).toBe(2);
    expect(err).toContain("unknown demo option --approvals=peer; the options are --approval self|peer, --proxy and --ghe-com[=SUBDOMAIN]");
  });

  it("--ghe-com with --proxy is refused: GHE.com's names already go through the sandbox's proxy", () => {
    const { code, err } = demo(":quit\n", ["--ghe-com", "--proxy"]);
    expect(code).toBe(2);
    expect(err).toContain("--ghe-com already puts GitHub behind the sandbox's proxy; leave out --proxy");
  });

  it("examples/proxy-refused.txt: check and the preflight name the host the proxy refused and the fix; nothing changes", () => {
    const { code, out } = demo(example("proxy-refused"));
    expect(code).toBe(0);
    expect(out).toMatch(/the proxy refuses CONNECT to api\.github\.com \(the sandbox's 127\.0\.0\.1:(\d+)\)/);
    const api = /the sandbox's (127\.0\.0\.1:\d+)/.exec(out)?.[1] as string;
    expect(out).toContain(`❌ API (${api}): the proxy refused CONNECT (403)`);
    expect(out).toContain("❌ 1 check failed. Nothing was changed.");
    expect(out).toContain("❌ Preflight for acme failed; nothing was changed.");
    expect(out).toContain(`→ Allow ${api} in the proxy (HTTPS_PROXY=`);
    expect(out).toContain("✅ Preflight for acme passed.");
  }, 120_000);

  it("examples/expired-license.txt: check and the preflight say the license expired, on which date, and what to do", () => {
    const { code, out } = demo(example("expired-license"));
    expect(code).toBe(0);
    expect(out).toContain("❌ License: the license of Example Corp expired on 2026-10-31");
    expect(out).toContain("❌ Preflight for acme failed; nothing was changed.");
    expect(out).toContain("→ Upload a renewed license in the Management Console; GitHub Connect needs a valid one.");
    expect(out).toContain("✅ Preflight for acme passed.");
  }, 120_000);

  it(":proxy without --proxy says how to start the demo behind one", () => {
    const { code, out } = demo(":proxy refuse api.github.com\n");
    expect(code).toBe(1);
    expect(out).toContain("the demo runs without a proxy; start it with --proxy (or a first line #!demo --proxy)");
  });
});

describe("examples/enterprise.txt", () => {
  it("connects the enterprise acme-corp from start to end (guide, registration by hand, credentials form, installation) and disconnects it", () => {
    const { code, out } = demo(readFileSync("examples/enterprise.txt", "utf8"));
    expect(code).toBe(0);
    expect(out).toContain("GitHub does not create apps for an enterprise account from a manifest");
    expect(out).toContain("registered the app on GitHub as octocat → HTTP 201");
    expect(out).toContain("gave ghconnect the app's credentials on its form → HTTP 302");
    expect(out).toContain("ghes.example.com is now connected to the GitHub enterprise account acme-corp");
    expect(out).toContain("Account: acme-corp (enterprise account)");
    expect(out).toContain("Installed on: acme");
    expect(out).toContain("✅ Disconnected acme-corp — approved by @U0ALICE001");
    expect(out).toMatch(/Delete the app registration by hand at http:\/\/127\.0\.0\.1:\d+\/enterprises\/acme-corp\/settings\/apps\//);
    expect(out).not.toContain("PRIVATE KEY");
  }, 120_000);
});

describe("examples/ghe-com.txt", () => {
  it("GitHub plays acme.ghe.com: the bot, given only GITHUB_URL, derives the API and uploads hosts, checks GHE.com's hosts, marks what GHE.com does not offer, and connects and disconnects the enterprise acme-corp", () => {
    const { code, out } = demo(readFileSync("examples/ghe-com.txt", "utf8"));
    expect(code).toBe(0);
    expect(out).toMatch(
      /GitHub is GHE\.com: GITHUB_URL=http:\/\/acme\.ghe\.com only \(API http:\/\/api\.acme\.ghe\.com, uploads http:\/\/uploads\.acme\.ghe\.com, derived\), reached through the proxy 127\.0\.0\.1:\d+/,
    );
    for (const host of ["GHE.com (acme.ghe.com)", "API (api.acme.ghe.com)", "uploads (uploads.acme.ghe.com)", "auth (auth.ghe.com)"])
      expect(out).toMatch(new RegExp(`✅ ${host.replace(/[.()]/g, "\\$&")}: reachable through the proxy`));
    expect(out).toContain("Server statistics `server-statistics` — 🚫 not offered on GHE.com");
    expect(out).toContain("read the guide: 13 fields to copy into http://acme.ghe.com/enterprises/acme-corp/settings/apps/new");
    expect(out).toContain("ghes.example.com is now connected to the GitHub enterprise account acme-corp");
    expect(out).toContain("Connected by: @U0ALICE001 · GHES `alice` · acme.ghe.com `octocat`");
    expect(out).toContain("Installed on: acme");
    expect(out).toContain("✅ Disconnected acme-corp — approved by @U0ALICE001");
    expect(out).toContain("Delete the app registration by hand at http://acme.ghe.com/enterprises/acme-corp/settings/apps/");
    expect(out).not.toContain("PRIVATE KEY");
  }, 120_000);
});
