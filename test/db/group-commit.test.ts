// Audit entries and Slack delivery records written under a burst share transactions (group
// commit). What an auditor and an admin rely on must not change: one unbroken chain, each
// command recorded once, one bad entry failing alone, a dead database named as such.
import { sql } from "kysely";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { verifyChain } from "../../src/core/audit.js";
import { DatabaseUnavailable } from "../../src/core/errors.js";
import { openDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { type RecordItem, recordBatch } from "../../src/db/record-batch.js";
import { RecordingThread } from "../../src/db/recording-thread.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const clock = () => new Date("2026-11-25T10:00:00Z");

describe.each(ENGINES)("group commit (%s)", (engine) => {
  async function withStore(fn: (store: Store, t: TestDb) => Promise<void>) {
    const t = await createTestDb(engine);
    try {
      await migrateToLatest(t.db);
      await fn(new Store(t.db, clock, new NoKeyBox()), t);
    } finally {
      await t.cleanup();
    }
  }

  it("a burst of appends from two replicas on one database is one unbroken chain; each caller gets its own entry", () =>
    withStore(async (store, t) => {
      // A second connection (pool) to the same database, as a second replica has.
      const otherDb = await openDatabase(t.url, { schema: t.schema });
      try {
        const other = new Store(otherDb, clock, new NoKeyBox());
        const appends = Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? other : store).appendAudit({ actor: { slack: `U${i}` }, action: "load", outcome: "ok", details: { i } }),
        );
        const entries = await Promise.all(appends);
        entries.forEach((entry, i) => {
          expect(entry.actor_slack).toBe(`U${i}`);
          expect(entry.details).toEqual({ i });
        });
        expect(new Set(entries.map((e) => e.seq)).size).toBe(200);
        expect(verifyChain(await collect(store.audit.all()))).toMatchObject({ ok: true, count: 200 });
      } finally {
        await otherDb.close();
      }
    }));

  it("an entry that cannot be written fails alone; the rest of its batch lands", () =>
    withStore(async (store) => {
      const results = await Promise.allSettled(
        Array.from({ length: 21 }, (_, i) =>
          store.appendAudit({
            actor: { slack: "U1" },
            action: "load",
            outcome: "ok",
            // JSON has no BigInt: this one entry cannot be stored.
            details: i === 7 ? { n: 10n } : { i },
          }),
        ),
      );
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
      expect(results[7]?.status).toBe("rejected");
      expect(verifyChain(await collect(store.audit.all()))).toMatchObject({ ok: true, count: 20 });
    }));

  it("a command answered twice (Slack's retry, even within one batch) is recorded and audited once", () =>
    withStore(async (store) => {
      const entry = { actor: { slack: "U1" }, action: "command.status", outcome: "ok" as const };
      const first = { deliveryId: "command:1.a", kind: "command" };
      const second = { deliveryId: "command:2.b", kind: "command" };
      const results = await Promise.all([
        store.auditOnce(first, entry),
        store.auditOnce(first, entry),
        store.auditOnce(second, entry),
        store.auditOnce(undefined, entry),
      ]);
      expect(results.map((r) => (r ? "audited" : "skipped"))).toEqual(["audited", "skipped", "audited", "audited"]);
      expect(await store.auditOnce(first, entry)).toBeUndefined();
      expect(await store.audit.count()).toBe(3);
      expect(await Promise.all([store.firstDelivery("command:3.c", "command"), store.firstDelivery("command:3.c", "command")])).toEqual([
        true,
        false,
      ]);
    }));

  it("an entry carrying a lone UTF-16 surrogate (a Slack JSON payload can) or a NUL is stored, and the chain verifies", () =>
    withStore(async (store) => {
      const entry = await store.appendAudit({
        actor: { slack: "U\ud800" },
        action: "click",
        target: "acme\u0000",
        outcome: "ok",
        details: { value: "a\udc00b" },
      });
      expect(entry.details).toEqual({ value: "a\ufffdb" });
      const chain = await collect(store.audit.all());
      expect(chain[0]).toMatchObject({ actor_slack: "U\ufffd", target: "acme\ufffd" });
      expect(verifyChain(chain)).toMatchObject({ ok: true, count: 1 });
    }));

  it("a delivery id with a lone surrogate or a NUL: its first delivery is audited, its retry is not", () =>
    withStore(async (store) => {
      const entry = { actor: { slack: "U1" }, action: "command.status", outcome: "ok" as const };
      for (const id of ["command:1.\ud800", "command:2.\u0000"]) {
        expect(await store.auditOnce({ deliveryId: id, kind: "command" }, entry)).toMatchObject({ action: "command.status" });
        expect(await store.auditOnce({ deliveryId: id, kind: "command" }, entry)).toBeUndefined();
      }
      expect(await store.audit.count()).toBe(2);
    }));

  it("a database that is gone fails every waiting write as 'database unavailable'", () =>
    withStore(async (store) => {
      await store.db.close();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.appendAudit({ actor: { slack: "U1" }, action: "load", outcome: "ok" })),
      );
      for (const r of results) {
        expect(r.status).toBe("rejected");
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseUnavailable);
      }
    }));
});

describe("SQLite prepared statements", () => {
  it("stay correct past the cache size, and the database still closes cleanly", async () => {
    const t = await createTestDb("sqlite");
    try {
      for (let i = 0; i < 260; i++) {
        const { rows } = await sql<{ n: number }>`select ${sql.raw(String(i))} + ${1} as n`.execute(t.db.kysely);
        expect(rows[0]?.n).toBe(i + 1);
      }
      const again = await sql<{ n: number }>`select ${sql.raw("0")} + ${41} as n`.execute(t.db.kysely);
      expect(again.rows[0]?.n).toBe(41);
      // SQLite refuses to close while a prepared statement is alive; this must not throw.
      await t.db.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe.each(ENGINES)("the recording thread (%s)", (engine) => {
  /** A store on a fresh database whose records go to a recording thread, once it is ready. */
  async function withThread(fn: (store: Store, thread: RecordingThread) => Promise<void>) {
    const t = await createTestDb(engine);
    const thread = RecordingThread.start(t.db, pino({ level: "silent" }));
    try {
      await migrateToLatest(t.db);
      if (!thread) throw new Error(`no recording thread for ${t.url}`);
      expect(await thread.started()).toBe(true);
      const store = new Store(t.db, clock, new NoKeyBox());
      store.recordingThread = thread;
      await fn(store, thread);
    } finally {
      await thread?.close();
      await t.cleanup();
    }
  }

  it("records a burst on its own connection: one unbroken chain with the main thread's writes, the app's clock, each retry once, every entry announced", () =>
    withThread(async (store) => {
      const announced: number[] = [];
      store.onAudit((entry) => announced.push(entry.seq));
      const onMainThread = vi.spyOn(store, "transaction");
      const entry = (i: number) => ({ actor: { slack: `U${i}` }, action: "command.status", outcome: "ok" as const, details: { i } });
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          // Every tenth is a Slack retry of the one before; every 25th a decision written on the main thread.
          i % 25 === 0
            ? store.transaction((tx) => tx.audit.append(entry(i)))
            : store.auditOnce({ deliveryId: `command:${i % 10 === 0 ? i - 1 : i}`, kind: "command" }, entry(i)),
        ),
      );
      const retries = results.filter((r) => r === undefined);
      expect(retries).toHaveLength(300 / 10 - 300 / 50); // the tenths that are not also 25ths
      // Only the decisions took a transaction on the main thread: the records went to the thread.
      expect(onMainThread).toHaveBeenCalledTimes(300 / 25);
      const chain = await collect(store.audit.all());
      expect(verifyChain(chain)).toMatchObject({ ok: true, count: 300 - retries.length });
      expect(new Set(chain.map((e) => e.at))).toEqual(new Set([clock().toISOString()]));
      expect(announced.sort((a, b) => a - b)).toEqual(chain.map((e) => e.seq));
    }));

  it("a batch the thread committed but never confirmed (it died first) is found, not written twice, and announced", () =>
    withThread(async (store, thread) => {
      // A thread that commits the batch on its own connection, then dies before it answers.
      const otherDb = await openDatabase(store.db.url, { schema: store.db.schema });
      const dying = {
        ready: true,
        write: async (items: RecordItem[]) => {
          await new Store(otherDb, clock, new NoKeyBox()).transaction((tx) => recordBatch(tx, items));
          throw new Error("the recording thread stopped");
        },
      };
      store.recordingThread = dying as unknown as RecordingThread;
      const announced: string[] = [];
      store.onAudit((entry) => announced.push(entry.action));
      try {
        const [answered, other, retry] = await Promise.all([
          store.auditOnce(
            { deliveryId: "command:1", kind: "command" },
            { actor: { slack: "U1" }, action: "command.status", outcome: "ok" },
          ),
          store.appendAudit({ actor: { slack: "U1" }, action: "command.whoami", outcome: "ok" }),
          store.auditOnce(
            { deliveryId: "command:1", kind: "command" },
            { actor: { slack: "U1" }, action: "command.status", outcome: "ok" },
          ),
        ]);
        // The answered command is its entry (not mistaken for a retry), the other entry is there once.
        expect(answered).toMatchObject({ action: "command.status" });
        expect(other).toMatchObject({ action: "command.whoami" });
        expect(retry).toBeUndefined();
        const chain = await collect(store.audit.all());
        expect(chain.map((e) => e.action)).toEqual(["command.status", "command.whoami"]);
        expect(verifyChain(chain)).toMatchObject({ ok: true, count: 2 });
        expect(announced.sort()).toEqual(["command.status", "command.whoami"]);
      } finally {
        store.recordingThread = thread;
        await otherDb.close();
      }
    }));

  it("a sustained backlog goes to the thread in batches of up to 1,000; on the main thread, in transactions of up to 200", () =>
    withThread(async (store, thread) => {
      const sizes: number[] = [];
      const write = thread.write.bind(thread);
      vi.spyOn(thread, "write").mockImplementation((items, at) => {
        sizes.push(items.length);
        return write(items, at);
      });
      const burst = (n: number, from: number) =>
        Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.auditOnce(
              { deliveryId: `command:${from + i}`, kind: "command" },
              { actor: { slack: "U1" }, action: "command.status", outcome: "ok" },
            ),
          ),
        );
      expect((await burst(2500, 0)).every((e) => e?.action === "command.status")).toBe(true);
      // The first record goes alone (nothing was waiting); the rest wait for it and go in 1,000s.
      expect(sizes).toEqual([1, 1000, 1000, 499]);
      await thread.close();
      const onMainThread = vi.spyOn(store, "transaction");
      expect((await burst(500, 2500)).every((e) => e?.action === "command.status")).toBe(true);
      expect(onMainThread).toHaveBeenCalledTimes(4); // 1, then 200, 200 and 99
      expect(verifyChain(await collect(store.audit.all()))).toMatchObject({ ok: true, count: 3000 });
    }));

  it("once the thread has stopped, records are written on the main thread and none is lost", () =>
    withThread(async (store, thread) => {
      await store.auditOnce({ deliveryId: "command:before", kind: "command" }, { actor: { slack: "U1" }, action: "a", outcome: "ok" });
      await thread.close();
      expect(thread.ready).toBe(false);
      const after = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.auditOnce({ deliveryId: `command:${i}`, kind: "command" }, { actor: { slack: "U1" }, action: "b", outcome: "ok" }),
        ),
      );
      expect(after.every((e) => e?.action === "b")).toBe(true);
      expect(verifyChain(await collect(store.audit.all()))).toMatchObject({ ok: true, count: 51 });
      // The retry of a command recorded on the thread is still recognised on the main thread.
      expect(
        await store.auditOnce({ deliveryId: "command:before", kind: "command" }, { actor: { slack: "U1" }, action: "a", outcome: "ok" }),
      ).toBeUndefined();
    }));
});

it("SQLite in memory has no recording thread (a second connection would open another, empty database)", async () => {
  const db = await openDatabase("sqlite::memory:");
  try {
    expect(RecordingThread.start(db, pino({ level: "silent" }))).toBeUndefined();
  } finally {
    await db.close();
  }
});
