// `status` answers from what was read less than a second ago; what an admin relies on: a burst
// reads once, a change or a second later reads again, and a failed read is not remembered.
import { describe, expect, it } from "vitest";
import { RecentlyRead } from "../../src/core/status/recently-read.js";

describe("RecentlyRead", () => {
  function setup() {
    let now = Date.parse("2026-11-25T10:00:00Z");
    let reads = 0;
    let fail = false;
    const cache = new RecentlyRead(
      async () => {
        reads++;
        if (fail) throw new Error("database unavailable");
        return `view ${reads}`;
      },
      () => new Date(now),
      1000,
    );
    return {
      cache,
      reads: () => reads,
      advance: (ms: number) => {
        now += ms;
      },
      failNext: (v: boolean) => {
        fail = v;
      },
    };
  }

  it("a burst shares one read; a second later, or after forget(), it reads again", async () => {
    const t = setup();
    expect(await Promise.all(Array.from({ length: 50 }, () => t.cache.get()))).toEqual(Array(50).fill("view 1"));
    expect(t.reads()).toBe(1);
    t.advance(999);
    expect(await t.cache.get()).toBe("view 1");
    t.advance(1);
    expect(await t.cache.get()).toBe("view 2");
    t.cache.forget();
    expect(await t.cache.get()).toBe("view 3");
  });

  it("past half its life it is read again in the background while the cached value is served", async () => {
    const t = setup();
    expect(await t.cache.get()).toBe("view 1");
    t.advance(600);
    expect(await t.cache.get()).toBe("view 1"); // served at once; a refresh has started
    expect(t.reads()).toBe(2);
    await new Promise((r) => setTimeout(r, 0));
    t.advance(300);
    expect(await t.cache.get()).toBe("view 2"); // the refresh, read 300 ms ago
    t.advance(1000);
    expect(await t.cache.get()).toBe("view 3"); // too old: read afresh, and waited for
  });

  it("a clock that went backwards reads again", async () => {
    const t = setup();
    await t.cache.get();
    t.advance(-5000);
    expect(await t.cache.get()).toBe("view 2");
  });

  it("a failed read is not kept: the next caller tries again", async () => {
    const t = setup();
    t.failNext(true);
    await expect(t.cache.get()).rejects.toThrow("database unavailable");
    t.failNext(false);
    expect(await t.cache.get()).toBe("view 2");
  });

  it("while a refresh waits for a slow database, the cached value is served up to 5 s old; then callers wait", async () => {
    let now = Date.parse("2026-11-25T10:00:00Z");
    let reads = 0;
    const pending: Array<(v: string) => void> = [];
    const cache = new RecentlyRead(
      () => {
        reads++;
        if (reads === 1) return Promise.resolve("view 1");
        return new Promise<string>((resolve) => pending.push(resolve));
      },
      () => new Date(now),
      1000,
    );
    expect(await cache.get()).toBe("view 1");
    now += 600;
    expect(await cache.get()).toBe("view 1"); // refresh-ahead started; the database is slow
    now += 3000;
    expect(await cache.get()).toBe("view 1"); // 3.6 s old, refresh still waiting: served at once
    expect(reads).toBe(2);
    now += 2000;
    let answered: string | undefined;
    const waiting = cache.get().then((v) => {
      answered = v;
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(answered).toBeUndefined(); // 5.6 s old: too stale to serve, so it waits for a read
    for (const resolve of pending.splice(0)) resolve("view 2");
    await waiting;
    expect(answered).toBe("view 2");
  });
});
