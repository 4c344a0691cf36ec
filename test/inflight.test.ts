// Work after acks: how many run at once, when new work is refused, and what shutdown waits for.
import { describe, expect, it } from "vitest";
import { InFlight, PerKeyLimit } from "../src/inflight.js";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("InFlight", () => {
  it("runs at most `limit` at once, the rest in order as slots free, and says when it is full", async () => {
    const inflight = new InFlight(2, 1);
    const started: number[] = [];
    const gates = [gate(), gate(), gate()];
    const tasks = gates.map((g, i) =>
      inflight.run(async () => {
        started.push(i);
        await g.opened;
        return i * 10;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(inflight.size).toBe(3);
    expect(inflight.saturated).toBe(true); // two running, one waiting: the queue of one is full
    gates[1]?.open();
    expect(await tasks[1]).toBe(10);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    expect(inflight.saturated).toBe(false);
    gates[0]?.open();
    gates[2]?.open();
    expect(await Promise.all(tasks)).toEqual([0, 10, 20]);
    expect(inflight.size).toBe(0);
  });

  it("a failing task rejects its caller and frees its slot", async () => {
    const inflight = new InFlight(1);
    const failed = inflight.run(async () => {
      throw new Error("boom");
    });
    const next = inflight.run(async () => "after");
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe("after");
    expect(inflight.size).toBe(0);
  });

  it("drain waits for running and queued work, including work added while it waits", async () => {
    const inflight = new InFlight(1);
    const first = gate();
    const done: string[] = [];
    void inflight.run(async () => {
      await first.opened;
      done.push("first");
    });
    void inflight.run(async () => {
      done.push("queued");
    });
    const drained = inflight.drain(5000);
    const late = gate();
    void inflight.run(async () => {
      await late.opened;
      done.push("late");
    });
    first.open();
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual(["first", "queued"]);
    late.open();
    expect(await drained).toBe(true);
    expect(done).toEqual(["first", "queued", "late"]);
    expect(await inflight.drain(10)).toBe(true); // nothing left: at once
  });

  it("drain gives up after its timeout and says so", async () => {
    const inflight = new InFlight(1);
    const never = gate();
    void inflight.run(() => never.opened);
    expect(await inflight.drain(20)).toBe(false);
    never.open();
    expect(await inflight.drain(1000)).toBe(true);
  });
});

describe("PerKeyLimit", () => {
  it("gives each key at most `limit` places, independently of other keys, and takes each place back once", () => {
    const perUser = new PerKeyLimit(2);
    const a1 = perUser.take("alice");
    const a2 = perUser.take("alice");
    expect(a1 && a2).toBeTruthy();
    expect(perUser.take("alice")).toBeUndefined();
    expect(perUser.take("bob")).toBeTruthy();
    a1?.();
    a1?.(); // a second release of the same place frees nothing more
    const a3 = perUser.take("alice");
    expect(a3).toBeTruthy();
    expect(perUser.take("alice")).toBeUndefined();
  });
});
