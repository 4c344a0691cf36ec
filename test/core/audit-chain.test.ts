// What an auditor relies on: the chain verifies, and any change to a stored entry is named.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { type AuditEntry, canonicalJson, entryHash, nextEntry, verifyChain } from "../../src/core/audit.js";
import { exportSigningKey, publicKeyText, signHead, verifyExport } from "../../src/core/audit-head.js";
import { compareWithWitness, witnessFailed, witnessSentence } from "../../src/core/witness.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES } from "../helpers/db.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each(ENGINES)("audit chain (%s)", (engine) => {
  async function withThreeEntries(fn: (store: Store) => Promise<void>) {
    const t = await createTestDb(engine);
    try {
      await migrateToLatest(t.db);
      const store = new Store(t.db, () => new Date("2026-11-25T10:00:00Z"), new NoKeyBox());
      await store.appendAudit({ actor: { slack: "U1", ghes: "alice" }, action: "command.help", outcome: "ok" });
      await store.appendAudit({
        actor: { slack: "U1" },
        action: "enable.requested",
        target: "acme",
        outcome: "pending",
        details: { step: 1 },
      });
      await store.appendAudit({ actor: { slack: "U2" }, action: "command.rejected", outcome: "refused", details: { reason: "bad" } });
      await fn(store);
    } finally {
      await t.cleanup();
    }
  }

  it("three entries verify", () =>
    withThreeEntries(async (store) => {
      const result = verifyChain(await collect(store.audit.all()));
      expect(result).toMatchObject({ ok: true, count: 3 });
    }));

  it("changing one stored byte makes verification name that entry", () =>
    withThreeEntries(async (store) => {
      await sql`update audit_log set details = ${'{"step":2}'} where seq = 2`.execute(store.q);
      const result = verifyChain(await collect(store.audit.all()));
      expect(result).toMatchObject({ ok: false, badSeq: 2, reason: expect.stringContaining("contents do not match its hash") });
    }));

  it("deleting an entry is named as a gap", () =>
    withThreeEntries(async (store) => {
      await sql`delete from audit_log where seq = 2`.execute(store.q);
      const result = verifyChain(await collect(store.audit.all()));
      expect(result).toMatchObject({ ok: false, badSeq: 3, reason: expect.stringContaining("#2 is missing") });
    }));

  it("secrets never enter audit details", () =>
    withThreeEntries(async (store) => {
      const entry = await store.appendAudit({
        actor: { slack: "U1" },
        action: "test",
        outcome: "ok",
        details: { token: "ghs_abcdefghijklmnopqrstuvwxyz0123456789", note: `${"-----BEGIN"} RSA PRIVATE KEY-----\nabc`, org: "acme" },
      });
      expect(entry.details).toEqual({ token: "[redacted]", note: "[redacted]", org: "acme" });
    }));

  it("secrets inside arrays of audit details are redacted too", () =>
    withThreeEntries(async (store) => {
      const token = "ghs_abcdefghijklmnopqrstuvwxyz0123456789";
      const entry = await store.appendAudit({
        actor: { slack: "U1" },
        action: "test",
        outcome: "ok",
        details: { items: [{ token, org: "acme" }, { note: `Bearer ${token}` }], hosts: ["github.com", token, [token]] },
      });
      expect(entry.details).toEqual({
        items: [{ token: "[redacted]", org: "acme" }, { note: "[redacted]" }],
        hosts: ["github.com", "[redacted]", ["[redacted]"]],
      });
      expect(JSON.stringify(await store.audit.latest(1))).not.toContain(token);
    }));

  it("a Date in the details is recorded as its ISO string (it was recorded as {}), and the chain verifies", () =>
    withThreeEntries(async (store) => {
      const entry = await store.appendAudit({
        actor: { slack: "U1" },
        action: "token.refreshed",
        outcome: "ok",
        details: { expires_at: new Date("2026-11-25T11:00:00Z"), at: [new Date("2026-11-25T10:00:00Z")] },
      });
      expect(entry.details).toEqual({ expires_at: "2026-11-25T11:00:00.000Z", at: ["2026-11-25T10:00:00.000Z"] });
      const stored = await collect(store.audit.all());
      expect(stored.at(-1)?.details).toEqual(entry.details);
      expect(verifyChain(stored)).toMatchObject({ ok: true, count: 4 });
    }));

  it("concurrent appends stay one unbroken chain", () =>
    withThreeEntries(async (store) => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.appendAudit({ actor: { slack: "U9" }, action: "load", outcome: "ok", details: { i } })),
      );
      const result = verifyChain(await collect(store.audit.all()));
      expect(result).toMatchObject({ ok: true, count: 33 });
    }));
});

describe("the hash of an entry", () => {
  it("is the same as when the chain was written: sorted keys at every level, undefined left out", () => {
    // A stored chain must verify after any rewrite of the hashing code: these values were
    // computed by the first implementation.
    const details = { z: [1, "two", { b: null, a: true }], a: { nested: { y: 2, x: 'é"\n' } }, skipped: undefined, empty: {}, list: [] };
    expect(canonicalJson(details)).toBe('{"a":{"nested":{"x":"é\\"\\n","y":2}},"empty":{},"list":[],"z":[1,"two",{"a":true,"b":null}]}');
    const entry = {
      seq: 7,
      id: "0b4f2c1e-2a51-4c59-9a7e-6f0d1c2b3a4d",
      at: "2026-11-25T10:00:00.000Z",
      actor_slack: "U0ALICE001",
      actor_ghes: null,
      actor_github: "octocat",
      action: "enable.connected",
      target: "acme",
      outcome: "ok",
      details,
      prev_hash: "a".repeat(64),
    };
    expect(entryHash(entry)).toBe("798b11ea9f7c03ca1a37d60f9e70390c1efa38019ad3692d1a5e2e3acab1d7c2");
  });

  it("of a new entry (hashed without sorting) is what verification recomputes, whatever its values", () => {
    const now = new Date("2026-11-25T10:00:00Z");
    const inputs = [
      { actor: { slack: "U0ALICE001", ghes: null, github: "octocat" }, action: "enable.connected", target: "acme", outcome: "ok" as const },
      { actor: {}, action: "command.status", outcome: "refused" as const, details: { channel: "C1", why: 'quote " and \\ and \n' } },
      {
        actor: { slack: "U1\0NUL", ghes: "al\ud800ice" },
        action: "é ✓ 𝄞",
        target: "",
        outcome: "pending" as const,
        details: { z: [1, { b: null, a: true }], a: {} },
      },
      {
        actor: { slack: "U2" },
        action: "admins.proven",
        target: null,
        outcome: "failed" as const,
        details: { ghes_user_id: 42, skipped: undefined },
      },
    ];
    let previous: AuditEntry | undefined;
    for (const input of inputs) {
      const entry = nextEntry(input, previous, now);
      const { hash, ...body } = entry;
      expect(hash).toBe(entryHash(body));
      previous = entry;
    }
    expect(previous?.seq).toBe(4);
  });
});

describe("the admin channel as the chain's witness", () => {
  const chain = (n: number) => {
    const entries: AuditEntry[] = [];
    for (let i = 0; i < n; i++)
      entries.push(nextEntry({ actor: { slack: "U1" }, action: `a${i}`, outcome: "ok" }, entries[i - 1], new Date("2026-11-25T10:00:00Z")));
    return entries;
  };
  const at = (entries: AuditEntry[]) => (seq: number) => entries.find((e) => e.seq === seq);
  const db = (entries: AuditEntry[], dbEnd: number, announced: number[] = []) => ({ entryAt: at(entries), dbEnd, announced });
  const seen = (...ws: AuditEntry[]) => ({
    readable: true as const,
    newest: ws[ws.length - 1],
    seen: ws.map((e) => ({ seq: e.seq, hash: e.hash })),
  });

  it("names the missing newest entries, one or a range", () => {
    const all = chain(17);
    const kept = all.slice(0, 14);
    const seventeen = all[16] as AuditEntry;
    const verdict = compareWithWitness(seen(seventeen), db(kept, 14));
    expect(witnessSentence(verdict)).toBe("Entries 15–17 are missing: the database ends at 14, the admin channel saw 17.");
    expect(witnessSentence(compareWithWitness(seen(seventeen), db(all.slice(0, 16), 16)))).toBe(
      "Entry 17 is missing: the database ends at 16, the admin channel saw 17.",
    );
  });

  it("names the first witnessed entry a restored and regrown database disagrees on", () => {
    const original = chain(10);
    // An older copy (entries 1–6) restored, then grown again with other entries 7–10.
    const regrown = original.slice(0, 6);
    for (let i = 6; i < 10; i++)
      regrown.push(nextEntry({ actor: { slack: "U2" }, action: "other", outcome: "ok" }, regrown[i - 1], new Date()));
    const verdict = compareWithWitness(
      seen(original[3] as AuditEntry, original[7] as AuditEntry, original[9] as AuditEntry),
      db(regrown, 10),
    );
    expect(verdict).toMatchObject({ kind: "different", seq: 8 });
    expect(witnessFailed(verdict)).toBe(true);
  });

  it("matches when the database holds the newest witness; says so when there is none or the channel is unreadable", () => {
    const all = chain(5);
    expect(compareWithWitness(seen(all[4] as AuditEntry), db(all, 5))).toMatchObject({ kind: "matches" });
    expect(compareWithWitness({ readable: true, seen: [] }, db(all, 5))).toEqual({ kind: "none" });
    const unreadable = compareWithWitness({ readable: false, problem: "p", fix: "f" }, db(all, 5));
    expect(witnessFailed(unreadable)).toBe(false);
    expect(witnessSentence(unreadable)).toContain("could not be read (p)");
  });

  it("fails as inconclusive when the channel shows no witness although the database holds entries that were posted there", () => {
    const all = chain(5);
    const verdict = compareWithWitness({ readable: true, seen: [] }, db(all, 5, [2, 4, 5]));
    expect(witnessFailed(verdict)).toBe(true);
    expect(witnessSentence(verdict)).toBe(
      "Inconclusive: the admin channel shows no witness although 3 entries (2…5) were posted there, so deleted newest entries cannot be ruled out. Check that the bot is still in the channel and that its lines were not deleted.",
    );
  });
});

describe("the signed head of an export", () => {
  const key = exportSigningKey({ encryptionKey: Buffer.alloc(32, 7).toString("base64") });
  const entries: AuditEntry[] = [];
  for (let i = 0; i < 4; i++)
    entries.push(nextEntry({ actor: {}, action: "x", outcome: "ok" }, entries[i - 1], new Date("2026-11-25T10:00:00Z")));
  const file = (list: AuditEntry[]) => [
    ...list.map((e) => JSON.stringify(e)),
    JSON.stringify(
      signHead({ first: list[0], last: list[list.length - 1], count: list.length, now: new Date("2026-11-26T00:00:00Z"), key }),
    ),
  ];

  it("is derived the same from the same encryption key, and differs from another's", () => {
    expect(publicKeyText(exportSigningKey({ encryptionKey: Buffer.alloc(32, 7).toString("base64") }))).toBe(publicKeyText(key));
    expect(publicKeyText(exportSigningKey({ encryptionKey: Buffer.alloc(32, 8).toString("base64") }))).not.toBe(publicKeyText(key));
  });

  it("verifies, and any change to a byte of the head is refused", () => {
    const lines = file(entries);
    expect(verifyExport(lines, { file: "f", publicKey: publicKeyText(key) })).toMatchObject({ ok: true, count: 4, pinned: true });
    const head = lines[4] as string;
    // head.length - 6: inside the signature's last full base64 character (the one after it,
    // before "==", carries 4 padding bits a decoder ignores, so changing it may change no byte).
    for (const i of [10, Math.floor(head.length / 2), head.length - 6]) {
      const changed = `${head.slice(0, i)}${head[i] === "1" ? "2" : "1"}${head.slice(i + 1)}`;
      const verdict = verifyExport([...lines.slice(0, 4), changed], { file: "f" });
      expect(verdict.ok).toBe(false);
    }
  });

  it("refuses a segment without --from-hash and checks it with one", () => {
    const segment = file(entries.slice(2));
    expect(verifyExport(segment, { file: "seg" })).toMatchObject({
      ok: false,
      refused: true,
      message: expect.stringContaining("starts at entry #3, not #1"),
    });
    expect(verifyExport(segment, { file: "seg", fromHash: (entries[1] as AuditEntry).hash })).toMatchObject({ ok: true, count: 2 });
  });
});
