// Records answered commands on a thread of their own. Every command answered in Slack's ack is
// recorded after it (its delivery and its audit entry, group-committed by Store). On the main
// thread, under sustained load, each statement of a batch waited for a turn of an event loop busy
// with a hundred requests (a batch took 100–200 ms for five statements), so the writer fell behind
// the acks and the acks had to wait for it. This thread has its own connection and an idle event
// loop: a batch takes a few milliseconds, and the main thread only posts it and reads the result.
//
// It only ever speeds things up. Until it is ready, if it ever stops, and for any batch it could
// not confirm, Store writes the batch on the main thread (record-batch.ts is the one code for
// both), where a delivery already recorded is not recorded twice.
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { Db } from "./database.js";
import { fromWire, type RecordItem, type RecordResults, toWire } from "./record-batch.js";
import type { RecordingReply } from "./recording-worker.js";

interface Pending {
  resolve: (results: RecordResults) => void;
  reject: (error: Error) => void;
}

export class RecordingThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastWarned = 0;
  private state: "starting" | "ready" | "stopped" = "starting";
  private readonly startedOrStopped: Promise<void>;
  private settleStart = () => {};

  /** Undefined for a database another connection cannot share (SQLite in memory). */
  static start(db: Db, log: Logger): RecordingThread | undefined {
    if (db.url === "sqlite::memory:") return undefined;
    return new RecordingThread(db, log);
  }

  private constructor(
    db: Db,
    private readonly log: Logger,
  ) {
    this.startedOrStopped = new Promise((resolve) => {
      this.settleStart = resolve;
    });
    const own = fileURLToPath(import.meta.url);
    const entry = new URL(`./recording-worker${extname(own)}`, import.meta.url);
    // From the sources (tsx, vitest) the worker is TypeScript and needs tsx's loader (ts-worker.mjs).
    const workerData = { url: db.url, schema: db.schema, entry: entry.href };
    this.worker =
      extname(own) === ".ts" ? new Worker(new URL("./ts-worker.mjs", import.meta.url), { workerData }) : new Worker(entry, { workerData });
    this.worker.on("message", (wire: string) => this.received(fromWire<RecordingReply>(wire)));
    this.worker.on("error", (error) => {
      this.log.error({ err: error }, "the recording thread failed; recording on the main thread");
      this.stopped(error);
    });
    this.worker.on("exit", () => this.stopped(new Error("the recording thread stopped")));
  }

  /** True once the thread has its connection; until then (and after it stops) Store writes itself. */
  get ready(): boolean {
    return this.state === "ready";
  }

  /** Resolves once the thread is ready, or has stopped before it was: true when ready. */
  async started(): Promise<boolean> {
    await this.startedOrStopped;
    return this.ready;
  }

  /** Writes one batch in one transaction on the thread; `at` is the batch's time (the app's clock). */
  write(items: RecordItem[], at: Date): Promise<RecordResults> {
    if (this.state !== "ready") return Promise.reject(new Error("the recording thread is not running"));
    const id = this.nextId++;
    return new Promise<RecordResults>((resolve, reject) => {
      // Serialized first: a batch that cannot be (a value JSON refuses) is rejected, not left pending.
      const wire = toWire({ id, at: at.toISOString(), items });
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(wire);
    });
  }

  /** Lets the thread close its connection, then ends it (writes still pending are rejected). */
  async close(): Promise<void> {
    if (this.state === "stopped") return;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.postMessage(toWire({ close: true }));
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private received(reply: RecordingReply): void {
    if ("ready" in reply) {
      if (this.state === "starting") this.state = "ready";
      this.settleStart();
      return;
    }
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (!waiting) return;
    if ("results" in reply) {
      waiting.resolve(reply.results.map((entry) => entry ?? undefined));
      return;
    }
    // Each such batch is written on the main thread instead; said once a minute at most.
    const now = Date.now();
    if (now - this.lastWarned >= 60_000) {
      this.lastWarned = now;
      this.log.warn({ reason: reply.error }, "the recording thread could not write a batch; writing it on the main thread");
    }
    waiting.reject(new Error(reply.error));
  }

  private stopped(reason: Error): void {
    this.state = "stopped";
    this.settleStart();
    for (const waiting of this.pending.values()) waiting.reject(reason);
    this.pending.clear();
  }
}
