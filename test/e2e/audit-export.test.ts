// What an auditor does with an export, offline: pin the bot's public key, check the chain and the
// signed head; a file cut short, edited, or not starting at entry 1 is refused with the reason.
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AuditEntry, entryHash } from "../../src/core/audit.js";
import { keyFingerprint, signHead } from "../../src/core/audit-head.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, type World } from "../helpers/world.js";

const ENCRYPTION_KEY = randomBytes(32).toString("base64");

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["bin/ghconnect.js", ...args], {
    env: { PATH: process.env.PATH ?? "", DOTENV_CONFIG_PATH: "/nonexistent", DATABASE_URL: "sqlite::memory:", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each(ENGINES)("audit export and verify --file (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  const dir = mkdtempSync(join(tmpdir(), "ghconnect-audit-"));
  const write = (name: string, text: string) => {
    const path = join(dir, `${engine}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  /** The bot's own key: export refuses any other (the head would be signed by a key nobody pinned). */
  const botKey = () => world.bot.config.GHCONNECT_ENCRYPTION_KEY.toString("base64");
  const exportAll = (extra: string[] = []) =>
    cli(["audit", "export", ...extra], { DATABASE_URL: world.testDb.url, GHCONNECT_ENCRYPTION_KEY: botKey() });

  it("ends with a signed head; with the pinned key it verifies, and one changed byte anywhere is caught", async () => {
    world = await startWorld(engine);
    await world.enable();
    const exported = exportAll();
    expect(exported.code).toBe(0);
    const lines = exported.out.trim().split("\n");
    const entries = lines.slice(0, -1).map((l) => JSON.parse(l));
    const head = JSON.parse(lines[lines.length - 1] as string);
    const last = entries[entries.length - 1];
    expect(head).toMatchObject({ type: "ghconnect.audit.head", first_seq: 1, seq: last.seq, hash: last.hash, count: entries.length });

    // The key an auditor pins: printed by the bot's host, derived from its encryption key.
    const pinned = cli(["audit", "public-key"], { GHCONNECT_ENCRYPTION_KEY: botKey() });
    expect(pinned.code).toBe(0);
    const key = pinned.out.trim();
    expect(head.public_key).toBe(key);
    expect(pinned.err).toContain("fingerprint SHA256:");

    const good = cli(["audit", "verify", "--file", write("good.jsonl", exported.out), "--public-key", key]);
    expect(good.out).toContain(`${entries.length} entries, chain intact (entries #1–#${last.seq}); signed head verifies: #${last.seq}`);
    expect(good.code).toBe(0);
    // Where the bot's key can be derived (its host), it is pinned without --public-key.
    const onHost = cli(["audit", "verify", "--file", write("onhost.jsonl", exported.out)], { GHCONNECT_ENCRYPTION_KEY: botKey() });
    expect(onHost.out).toContain("signed head verifies");
    expect(onHost.out).toContain("pinned from the bot's key in this environment");
    expect(onHost.code).toBe(0);

    // One byte in an entry: the chain names it.
    const third = lines[2] as string;
    const action = entries[2].action as string;
    const changedEntry = exported.out.replace(
      third,
      third.replace(`"action":"${action}"`, `"action":"${action[0]?.toUpperCase()}${action.slice(1)}"`),
    );
    const badEntry = cli(["audit", "verify", "--file", write("entry.jsonl", changedEntry), "--public-key", key]);
    expect(badEntry.code).toBe(1);
    expect(badEntry.out).toContain(`chain BROKEN at entry #3 (${entries[2].id}): its contents do not match its hash`);

    // One byte in the head: its signature fails.
    const flipped = head.signature[0] === "A" ? "B" : "A";
    const changedHead = exported.out.replace(head.signature, `${flipped}${head.signature.slice(1)}`);
    const badHead = cli(["audit", "verify", "--file", write("head.jsonl", changedHead), "--public-key", key]);
    expect(badHead.code).toBe(1);
    expect(badHead.out).toContain("the signed head does not verify: the file was changed after export");

    // The last entry rewritten with a fresh hash keeps the chain valid; the signed head does not match it.
    const { hash: _old, ...body } = { ...last, outcome: "refused" };
    const forgedLast = JSON.stringify({ ...body, hash: entryHash(body) });
    const rewritten = [...lines.slice(0, -2), forgedLast, lines[lines.length - 1]].join("\n");
    const badLast = cli(["audit", "verify", "--file", write("last.jsonl", rewritten), "--public-key", key]);
    expect(badLast.code).toBe(1);
    expect(badLast.out).toContain(`the signed head names ${entries.length} entries ending at #${last.seq}`);
    expect(badLast.out).toContain("entries were removed or changed after export");

    // Cut short: the newest entries and the head gone.
    const cut = cli(["audit", "verify", "--file", write("cut.jsonl", lines.slice(0, -3).join("\n")), "--public-key", key]);
    expect(cut.code).toBe(1);
    expect(cut.out).toContain("has no signed head: it was cut short");

    // Signed by someone else's key (a re-signed forgery): refused against the pinned key.
    const other = cli(["audit", "public-key"], { GHCONNECT_AUDIT_SIGNING_KEY: randomBytes(32).toString("base64") }).out.trim();
    const wrongKey = cli(["audit", "verify", "--file", write("other.jsonl", exported.out), "--public-key", other]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toContain("not by the pinned SHA256:");
    // Eight CLI runs, each a fresh Node process: more than the default per-test time on a busy host.
  }, 120_000);

  it("an export cut short and re-signed with another key is refused on the bot's host, naming both keys' fingerprints", async () => {
    world = await startWorld(engine, { env: { GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY } });
    await world.enable();
    const exported = exportAll();
    expect(exported.code).toBe(0);
    const entries = exported.out
      .trim()
      .split("\n")
      .slice(0, -1)
      .map((l) => JSON.parse(l) as AuditEntry);
    // Whoever holds the file drops the connection's last entries and signs a new head with a key of their own.
    const kept = entries.slice(0, -2);
    const { privateKey } = generateKeyPairSync("ed25519");
    const head = signHead({ first: kept[0], last: kept[kept.length - 1], count: kept.length, now: new Date(), key: privateKey });
    const path = write("cut-resigned.jsonl", `${[...kept.map((e) => JSON.stringify(e)), JSON.stringify(head)].join("\n")}\n`);
    // The auditor checks it where the bot's key is known (the bot's host, the same environment as the export).
    const verified = cli(["audit", "verify", "--file", path], { GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY });
    expect(verified.out).not.toContain("signed head verifies");
    const botPublicKey = cli(["audit", "public-key"], { GHCONNECT_ENCRYPTION_KEY: ENCRYPTION_KEY }).out.trim();
    expect(verified.out).toContain(
      `the head is signed by key ${keyFingerprint(head.public_key)}, not by the pinned ${keyFingerprint(botPublicKey)} (pinned from the bot's key in this environment)`,
    );
    expect(verified.code).toBe(1);
  });

  it("without a pinned key an intact export is reported self-signed and unpinned, never verified, exit code 3", async () => {
    world = await startWorld(engine);
    await world.enable();
    const exported = exportAll();
    const head = JSON.parse(exported.out.trim().split("\n").pop() as string);
    const unpinned = cli(["audit", "verify", "--file", write("unpinned.jsonl", exported.out)]);
    expect(unpinned.out).not.toContain("verifies");
    expect(unpinned.out).toContain(
      `the head is self-signed by key ${keyFingerprint(head.public_key)}, which is not pinned, so the file is NOT verified`,
    );
    expect(unpinned.code).toBe(3);
  });

  it("refuses a file that does not start at entry 1 unless --from-hash names the entry before it", async () => {
    world = await startWorld(engine);
    await world.enable();
    // Later entries, an hour on: `--since` exports them alone.
    world.sandbox.world.clockOffsetMs = 3_600_000;
    await world.command("alice", "feature enable unified-search");
    await world.card(/turned on `unified-search`/);
    const since = new Date(Date.now() + 1_800_000).toISOString();
    const segment = exportAll(["--since", since]);
    expect(segment.code).toBe(0);
    const first = JSON.parse(segment.out.split("\n")[0] as string);
    expect(first.seq).toBeGreaterThan(1);
    const file = write("segment.jsonl", segment.out);

    const refused = cli(["audit", "verify", "--file", file]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      `starts at entry #${first.seq}, not #1: give --from-hash HASH, the full 64-hex hash of entry #${first.seq - 1}: the "hash" of the head line (the last line) of the export that ended at #${first.seq - 1}, or the head hash \`ghconnect audit verify\` printed when #${first.seq - 1} was the newest entry`,
    );
    const wrong = cli(["audit", "verify", "--file", file, "--from-hash", createHash("sha256").update("x").digest("hex")]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`entry #${first.seq} does not follow --from-hash`);
    const accepted = cli(["audit", "verify", "--file", file, "--from-hash", first.prev_hash], { GHCONNECT_ENCRYPTION_KEY: botKey() });
    expect(accepted.out).toContain(`chain intact (entries #${first.seq}–#`);
    expect(accepted.code).toBe(0);

    // The tail of a full export is not a segment: its signed head says where the file began.
    const full = exportAll().out.trim().split("\n");
    const tail = [...full.slice(first.seq - 1)].join("\n");
    const cutTail = cli(["audit", "verify", "--file", write("tail.jsonl", tail), "--from-hash", first.prev_hash]);
    expect(cutTail.code).toBe(1);
    expect(cutTail.out).toContain("entries were removed or changed after export");
  });

  it("audit verify prints the full head hash, which --from-hash accepts for the export that continues after it", async () => {
    world = await startWorld(engine);
    await world.enable();
    const before = exportAll().out.trim().split("\n");
    const newest = JSON.parse(before[before.length - 2] as string);
    const verified = cli(["audit", "verify"], { DATABASE_URL: world.testDb.url });
    expect(verified.code).toBe(0);
    expect(verified.out.split("\n")[0]).toBe(
      `${newest.seq} entries, chain intact; head hash (the newest entry's, for --from-hash): ${newest.hash}`,
    );
    // The next export, from the entry after that head (verify's own audit entry), continues from it.
    const after = exportAll()
      .out.trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.seq === newest.seq + 1);
    const segment = exportAll(["--since", after.at]);
    const file = write("after-head.jsonl", segment.out);
    const first = JSON.parse(segment.out.split("\n")[0] as string);
    expect(first.seq).toBe(newest.seq + 1);
    const continued = cli(["audit", "verify", "--file", file, "--from-hash", newest.hash]);
    expect(continued.out).toContain(`chain intact (entries #${newest.seq + 1}–#`);
    expect(continued.code).toBe(0);
  });

  it("after rotate-key, public-key and export with the retired key are refused (exit 2) before writing a line", async () => {
    world = await startWorld(engine);
    await world.enable();
    const retired = botKey();
    const next = randomBytes(32).toString("base64");
    const rotated = cli(["rotate-key"], {
      DATABASE_URL: world.testDb.url,
      GHCONNECT_ENCRYPTION_KEY: retired,
      GHCONNECT_NEW_ENCRYPTION_KEY: next,
    });
    expect(rotated.code).toBe(0);
    const { keyId } = await import("../../src/db/secret-box.js");
    const oldId = keyId(Buffer.from(retired, "base64"));
    const newId = keyId(Buffer.from(next, "base64"));
    for (const command of [
      ["audit", "public-key"],
      ["audit", "export"],
    ]) {
      const r = cli(command, { DATABASE_URL: world.testDb.url, GHCONNECT_ENCRYPTION_KEY: retired });
      expect(r.out).toBe("");
      expect(r.err).toMatch(
        new RegExp(
          `^ghconnect: GHCONNECT_ENCRYPTION_KEY \\(id ${oldId}\\) is not the active key \\(id ${newId} since [^)]+\\); this command (prints|would sign the export with) a signing key derived from it, which is not the bot's\\. Set GHCONNECT_ENCRYPTION_KEY to the active key`,
        ),
      );
      expect(r.code).toBe(2);
    }
    // With the active key it works.
    expect(cli(["audit", "public-key"], { DATABASE_URL: world.testDb.url, GHCONNECT_ENCRYPTION_KEY: next }).code).toBe(0);
  });

  it("export without the signing key stops before writing a line, naming the variable", async () => {
    world = await startWorld(engine);
    const r = cli(["audit", "export"], { DATABASE_URL: world.testDb.url });
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain("set GHCONNECT_ENCRYPTION_KEY to the bot's key");
  });
});
