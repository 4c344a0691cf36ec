// What an auditor relies on: the chain verifies, and any change to a stored entry is named.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { canonicalJson, entryHash, verifyChain } from "../../src/core/audit.js";
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
});
