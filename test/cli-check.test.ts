// `npx ghconnect check` as an operator runs it on day one, before Slack works: placeholder
// tokens, hosts that do not resolve, a host that accepts and never answers, one that refuses, one
// whose certificate is not trusted. It must print each check as it finishes, name each host's
// failure with the fix, and end on its own with a non-zero exit. And `npm start` with a token
// Slack refuses must stop at once with one line saying so.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/core/clock.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { keyId, SecretBox } from "../src/db/secret-box.js";
import { Store } from "../src/db/store.js";
import { freePort } from "../src/sandbox/bot.js";
import { type BlackHole, startBlackHole } from "./helpers/network.js";

const ROOT = join(import.meta.dirname, "..");

/** The environment an operator has after copying .env.example and filling in what they knew. */
function operatorEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const { HTTPS_PROXY, https_proxy, HTTP_PROXY, http_proxy, NO_PROXY, no_proxy, NODE_EXTRA_CA_CERTS, ...inherited } = process.env;
  return {
    ...inherited,
    SLACK_BOT_TOKEN: "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
    SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef",
    SLACK_ADMIN_CHANNEL: "C0123ABCD",
    GHES_TOKEN: "ghp_000000000000000000000000000000000000",
    PUBLIC_URL: "https://ghconnect.example.com",
    GHCONNECT_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    LOG_LEVEL: "info",
    ...overrides,
  };
}

interface Run {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching, and whether the process was still running then. */
  line(match: RegExp): Promise<{ text: string; running: boolean }>;
  exit: Promise<number | null>;
}

/** Processes a test started; one that outlives its test (it hung) is killed. */
const started = new Set<ChildProcess>();

function run(command: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, command, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  started.add(child);
  child.on("exit", () => started.delete(child));
  const lines: string[] = [];
  const waiters: Array<{ match: RegExp; resolve: (v: { text: string; running: boolean }) => void }> = [];
  let buffered = "";
  const take = (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    for (let i = buffered.indexOf("\n"); i !== -1; i = buffered.indexOf("\n")) {
      const text = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      lines.push(text);
      for (const w of [...waiters])
        if (w.match.test(text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve({ text, running: child.exitCode === null });
        }
    }
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exit,
    line: (match) => {
      const seen = lines.find((l) => match.test(l));
      if (seen) return Promise.resolve({ text: seen, running: child.exitCode === null });
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe("ghconnect check, with nothing reachable yet", () => {
  let dir: string;
  let blackHole: BlackHole;
  let untrusted: Server;
  let untrustedHost: string;
  let refusedPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ghconnect-check-"));
    // A server whose certificate nobody trusts (a TLS-inspecting proxy's, an internal CA's).
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    untrusted = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (_req, res) =>
      res.end("ok"),
    );
    await new Promise<void>((resolve) => untrusted.listen(0, "127.0.0.1", () => resolve()));
    untrustedHost = `127.0.0.1:${(untrusted.address() as AddressInfo).port}`;
    blackHole = await startBlackHole();
    refusedPort = await freePort();
  });
  afterEach(() => {
    for (const child of started) child.kill("SIGKILL");
  });
  afterAll(async () => {
    await blackHole?.stop();
    untrusted?.closeAllConnections();
    await new Promise<void>((resolve) => (untrusted ? untrusted.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints each check as it finishes, names every host's failure with its fix, and exits 1 on its own", async () => {
    const ghesHeld = blackHole.nextConnection();
    const check = run(
      ["bin/ghconnect.js", "check"],
      operatorEnv({
        DATABASE_URL: `sqlite:${join(dir, "check.db")}`,
        SLACK_API_URL: "https://slack.invalid/api/",
        GHES_URL: blackHole.url,
        GITHUB_URL: "https://github.invalid",
        GITHUB_API_URL: `http://127.0.0.1:${refusedPort}`,
        GITHUB_UPLOADS_URL: `https://${untrustedHost}`,
        // Set as README's "Installing the Slack app" tells a new admin to.
        GHCONNECT_ADMINS: "U012ABC:octo-admin",
      }),
    );
    // The DNS failure is printed while GHES still holds the request open: output is progressive.
    await ghesHeld;
    const slack = await check.line(/^✗ Slack \(slack\.invalid\)/);
    expect(slack.running).toBe(true);
    expect(blackHole.held).toBe(1);
    expect(check.lines.some((l) => l.startsWith("✗ GHES:"))).toBe(false);

    expect(await check.exit).toBe(1);
    const out = check.lines;
    expect(out[0]).toBe("ghconnect check: each check gives up after 5 s; nothing is changed.");
    expect(out).toContain("✓ Config: Slack in HTTP mode; pages at https://ghconnect.example.com");
    expect(out).toContain(
      `! Database: not initialised yet: ${join(dir, "check.db")} does not exist → \`npm start\` or \`npx ghconnect migrate\` creates it.`,
    );
    // A `.invalid` name never resolves, but how depends on this machine, not on ghconnect: ENOTFOUND
    // where a resolver answers, EAI_AGAIN where none can be reached (a build box without DNS). Both
    // are the one outcome "DNS lookup failed", with the same fix; the code is passed on as it came.
    expect(slack.text).toMatch(
      /^✗ Slack \(slack\.invalid\): cannot reach slack\.invalid: DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\) → Check the host name, or set HTTPS_PROXY if this host reaches the internet only through a proxy\.$/,
    );
    expect(out).toContain(
      `✗ GHES: ${blackHole.host}: no answer within 5 s (timeout) → ${blackHole.host} did not answer: a firewall may drop the traffic; allow outbound HTTPS to ${blackHole.host}, or set HTTPS_PROXY.`,
    );
    expect(out).toContainEqual(
      expect.stringMatching(
        /^✗ github\.com \(github\.invalid\): DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\) → Check the host name, or set HTTPS_PROXY/,
      ),
    );
    expect(out).toContain(
      `✗ API (127.0.0.1:${refusedPort}): the connection was refused (ECONNREFUSED) → Nothing accepts connections at 127.0.0.1:${refusedPort}: check the URL and port and that the service is up.`,
    );
    expect(out).toContain(
      `✗ uploads (${untrustedHost}): TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT) → ${untrustedHost}'s certificate is not trusted here: if a proxy inspects TLS, give Node its CA (NODE_EXTRA_CA_CERTS=/path/to/ca.pem); otherwise check the certificate's name and expiry.`,
    );
    // The terminal is not "the bot": the advice fits both.
    expect(out).toContain(
      "✗ License: GHES_MANAGE_URL and GHES_MANAGE_PASSWORD are not set, so the license data that GitHub Connect records (customer name, public key) cannot be read. → Set both to the Management Console's URL (port 8443) and password (ghconnect reads them at start-up).",
    );
    expect(out).toContainEqual(
      expect.stringMatching(
        /^✗ Audit witness: cannot read #C\w+: cannot reach slack\.invalid: DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\) → Check that this host reaches Slack/,
      ),
    );
    expect(out).toContain("✓ Admin roster: empty; the next start seeds it from GHCONNECT_ADMINS (1 admin)");
    expect(out).toContainEqual(expect.stringMatching(/^! GHES sign-in: GHES_OAUTH_CLIENT_ID and GHES_OAUTH_CLIENT_SECRET are not set/));
    // GHES's own Connect: GHES holds the slug look-up open too; within the check's own 5 s it is a
    // warning on this line (the GHES line above already fails for it), not a second failure.
    expect(out).toContainEqual(
      expect.stringMatching(
        /^! GHES audit log: GHES_ENTERPRISE is not set and GHES could not be asked for its enterprise slug \(.*5 s.*\), so GHES's own GitHub Connect is not watched/,
      ),
    );
    expect(out[out.length - 1]).toBe("❌ 7 checks failed. Nothing was changed.");
  }, 30_000);

  it("npm start with a bot token Slack refuses: exit 2 and one line naming SLACK_BOT_TOKEN and Slack's reason", async () => {
    const { startSandbox } = await import("../src/sandbox/index.js");
    const sandbox = await startSandbox();
    try {
      const start = run(
        ["--import", "tsx", "src/main.ts"],
        operatorEnv({
          ...sandbox.env(),
          SLACK_BOT_TOKEN: "xoxb-1-a-token-this-workspace-revoked",
          DATABASE_URL: `sqlite:${join(dir, "start.db")}`,
          PORT: String(await freePort()),
        }),
      );
      expect(await start.exit).toBe(2);
      const refused = check(start.lines);
      expect(refused).toEqual([
        "ghconnect: cannot start: SLACK_BOT_TOKEN was refused by Slack (invalid_auth): Set SLACK_BOT_TOKEN to this app's Bot User OAuth Token (api.slack.com/apps → OAuth & Permissions, xoxb-…), and check the app is installed in the workspace.",
      ]);
    } finally {
      await sandbox.stop();
    }
  }, 30_000);
});

/** The lines a person reads on the terminal (pino's JSON lines aside). */
function check(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith("ghconnect:"));
}

describe("ghconnect check changes nothing", () => {
  let dir: string;
  let refused: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ghconnect-check-ro-"));
    refused = `http://127.0.0.1:${await freePort()}`;
  });
  afterEach(() => {
    for (const child of started) child.kill("SIGKILL");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Every host refuses at once: these tests are about the database and the key. */
  const unreachable = (db: string, key: Buffer) =>
    operatorEnv({
      DATABASE_URL: `sqlite:${db}`,
      GHCONNECT_ENCRYPTION_KEY: key.toString("base64"),
      GHCONNECT_ADMINS: "U0ADMIN01:octo-admin",
      SLACK_API_URL: `${refused}/api/`,
      GHES_URL: refused,
      GITHUB_URL: refused,
      GITHUB_API_URL: refused,
      GITHUB_UPLOADS_URL: refused,
    });

  it("on a fresh clone: says the database is not initialised yet, and creates no file", async () => {
    const file = join(dir, "fresh", "ghconnect.db");
    const check = run(["bin/ghconnect.js", "check"], unreachable(file, Buffer.alloc(32, 7)));
    expect(await check.exit).toBe(1);
    expect(check.lines).toContain(
      `! Database: not initialised yet: ${file} does not exist → \`npm start\` or \`npx ghconnect migrate\` creates it.`,
    );
    expect(check.lines).toContainEqual(
      expect.stringMatching(/^✓ Encryption key: GHCONNECT_ENCRYPTION_KEY has id \w{16}; the first start records it/),
    );
    expect(existsSync(file)).toBe(false);
  }, 30_000);

  it("on a fresh clone with GHCONNECT_ADMINS set: the roster line says the first start seeds it; with it unset: a failure naming the fix; no roster is seeded either way", async () => {
    const file = join(dir, "roster-fresh", "ghconnect.db");
    const seeded = run(["bin/ghconnect.js", "check"], unreachable(file, Buffer.alloc(32, 7)));
    expect(await seeded.exit).toBe(1);
    expect(seeded.lines).toContain("✓ Admin roster: empty; the next start seeds it from GHCONNECT_ADMINS (1 admin)");

    const nobody = run(["bin/ghconnect.js", "check"], { ...unreachable(file, Buffer.alloc(32, 7)), GHCONNECT_ADMINS: "" });
    expect(await nobody.exit).toBe(1);
    expect(nobody.lines).toContain(
      "✗ Admin roster: empty and GHCONNECT_ADMINS unset: nobody can run admin commands → Set GHCONNECT_ADMINS=<your Slack member ID>:<your GHES login> (Slack: your profile → ⋮ → Copy member ID) and restart the bot; it seeds an empty roster once.",
    );
    expect(existsSync(file)).toBe(false);
  }, 30_000);

  it("on a migrated database with an empty roster and GHCONNECT_ADMINS unset: the roster line fails, and check seeds nothing", async () => {
    const file = join(dir, "roster-empty.db");
    const key = Buffer.alloc(32, 3);
    const db = await openDatabase(`sqlite:${file}`);
    await migrateToLatest(db);
    await new Store(db, systemClock, new SecretBox(key)).encryptionKeys.admit(new SecretBox(key), []);
    await db.close();

    const check = run(["bin/ghconnect.js", "check"], { ...unreachable(file, key), GHCONNECT_ADMINS: "" });
    expect(await check.exit).toBe(1);
    expect(check.lines).toContainEqual(
      expect.stringMatching(/^✗ Admin roster: empty and GHCONNECT_ADMINS unset: nobody can run admin commands → Set GHCONNECT_ADMINS=/),
    );

    const seededToo = run(["bin/ghconnect.js", "check"], unreachable(file, key));
    expect(await seededToo.exit).toBe(1);
    expect(seededToo.lines).toContain("✓ Admin roster: empty; the next start seeds it from GHCONNECT_ADMINS (1 admin)");
    const after = await openDatabase(`sqlite:${file}`);
    const reread = new Store(after, systemClock, new SecretBox(key));
    expect(await reread.admins.count()).toBe(0);
    expect(await reread.audit.count()).toBe(0);
    await after.close();
  }, 30_000);

  it("without GHES_OAUTH_CLIENT_ID/SECRET: a warning that `admins add` entries stay pending and search skips GHES", async () => {
    const file = join(dir, "oauth", "ghconnect.db");
    const check = run(["bin/ghconnect.js", "check"], unreachable(file, Buffer.alloc(32, 7)));
    expect(await check.exit).toBe(1);
    expect(check.lines).toContain(
      '! GHES sign-in: GHES_OAUTH_CLIENT_ID and GHES_OAUTH_CLIENT_SECRET are not set: nobody can prove a GHES login, so admins added with `admins add` stay pending and search skips GHES → Register an OAuth app on GHES and set both (README "Linking people, not strings").',
    );
    const configured = run(["bin/ghconnect.js", "check"], {
      ...unreachable(file, Buffer.alloc(32, 7)),
      GHES_OAUTH_CLIENT_ID: "Iv1.0123456789abcdef",
      GHES_OAUTH_CLIENT_SECRET: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(await configured.exit).toBe(1);
    expect(configured.lines.filter((l) => l.includes("GHES sign-in"))).toEqual([]);
    expect(configured.lines).toContainEqual(expect.stringMatching(/^✓ Config: /));
  }, 30_000);

  it("with another key than the active one: an Encryption key line with the fix, every other check still runs, and nothing is recorded", async () => {
    const file = join(dir, "trial.db");
    const original = Buffer.alloc(32, 1);
    const db = await openDatabase(`sqlite:${file}`);
    await migrateToLatest(db);
    const store = new Store(db, systemClock, new SecretBox(original));
    const active = await store.encryptionKeys.admit(new SecretBox(original), []);
    await db.close();

    const other = Buffer.alloc(32, 2);
    const check = run(["bin/ghconnect.js", "check"], unreachable(file, other));
    expect(await check.exit).toBe(1);
    expect(check.lines).toContain("✓ Database: sqlite answers");
    expect(check.lines).toContain(
      `✗ Encryption key: GHCONNECT_ENCRYPTION_KEY (id ${keyId(other)}) is not the active key (id ${active.keyId} since ${active.since}) or a previous one → Set GHCONNECT_ENCRYPTION_KEY to the active key (during a key change: to the new key, with the active one in GHCONNECT_PREVIOUS_ENCRYPTION_KEY). That key is the one you stored when ghconnect first started (README "Rotating the key"); on a throw-away trial database you may instead delete ${file}, losing what it stored.`,
    );
    for (const name of ["Config", "Slack", "GHES", "License", "github.com", "Audit witness"])
      expect(check.lines.some((l) => l.startsWith(`✗ ${name}`) || l.startsWith(`✓ ${name}`))).toBe(true);

    const after = await openDatabase(`sqlite:${file}`);
    const reread = new Store(after, systemClock, new SecretBox(original));
    expect(await reread.admins.count()).toBe(0);
    expect(await reread.audit.count()).toBe(0);
    expect((await reread.encryptionKeys.active())?.keyId).toBe(active.keyId);
    await after.close();
  }, 30_000);
});

describe("ghconnect check behind HTTPS_PROXY", () => {
  let dir: string;
  let plain: HttpServer;
  let plainHost: string;
  afterEach(() => {
    for (const child of started) child.kill("SIGKILL");
  });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ghconnect-check-proxy-"));
    plain = createHttpServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", () => resolve()));
    plainHost = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    plain?.closeAllConnections();
    await new Promise<void>((resolve) => (plain ? plain.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("a proxy that is down is named as such, its refusals are blamed on it, and NO_PROXY hosts are not said to go through it", async () => {
    const proxyPort = await freePort();
    const directPort = await freePort();
    const check = run(
      ["bin/ghconnect.js", "check"],
      operatorEnv({
        DATABASE_URL: `sqlite:${join(dir, "check.db")}`,
        HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
        NO_PROXY: "127.0.0.1",
        SLACK_API_URL: "https://slack.example/api/",
        GHES_URL: `https://127.0.0.1:${directPort}`,
        GITHUB_URL: "https://github.example",
        GITHUB_API_URL: `https://127.0.0.1:${directPort}`,
        GITHUB_UPLOADS_URL: `https://${plainHost}`,
      }),
    );
    expect(await check.exit).toBe(1);
    const out = check.lines;
    expect(out).toContain(
      `✗ Proxy: the proxy 127.0.0.1:${proxyPort} refused the connection (ECONNREFUSED) → Check HTTPS_PROXY (host and port) and that the proxy is up.`,
    );
    expect(out).toContain(
      `✗ github.com (github.example): the proxy 127.0.0.1:${proxyPort} refused the connection (ECONNREFUSED) → The proxy 127.0.0.1:${proxyPort} refused the connection: check HTTPS_PROXY (host and port) and that the proxy is up.`,
    );
    expect(out).toContain(
      `✗ Slack (slack.example): cannot reach slack.example: the proxy 127.0.0.1:${proxyPort} refused the connection (ECONNREFUSED) → The proxy 127.0.0.1:${proxyPort} refused the connection: check HTTPS_PROXY (host and port) and that the proxy is up.`,
    );
    expect(out).toContain(
      `✗ API (127.0.0.1:${directPort}): the connection was refused (ECONNREFUSED) → Nothing accepts connections at 127.0.0.1:${directPort}: check the URL and port and that the service is up.`,
    );
    expect(out).toContain(
      `✗ Audit witness: cannot read #C0123ABCD: cannot reach slack.example: the proxy 127.0.0.1:${proxyPort} refused the connection (ECONNREFUSED) → The proxy 127.0.0.1:${proxyPort} refused the connection: check HTTPS_PROXY (host and port) and that the proxy is up.`,
    );
    expect(out).toContain(
      `✗ uploads (${plainHost}): this port does not speak HTTPS (ERR_SSL_WRONG_VERSION_NUMBER) → ${plainHost} does not speak HTTPS (a plain-HTTP service answered): check the URL's scheme and port.`,
    );
  }, 30_000);
});
