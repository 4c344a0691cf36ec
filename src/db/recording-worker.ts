// The recording thread (recording-thread.ts): its own connection to the database, writing the
// batches of records the main thread sends. Its event loop does nothing else, so each statement of
// a batch goes out the moment the previous one is done; on the main thread, under load, each
// waited for a turn of an event loop busy with hundreds of requests.
import { parentPort, workerData } from "node:worker_threads";
import { AuditRepo } from "./audit-repo.js";
import { openDatabase } from "./database.js";
import { DeliveriesRepo } from "./deliveries-repo.js";
import { fromWire, type RecordItem, type RecordResults, recordBatch, toWire } from "./record-batch.js";

export type RecordingRequest = { id: number; at: string; items: RecordItem[] } | { close: true };
export type RecordingReply = { ready: true } | { id: number; results: RecordResults } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error("recording-worker.ts runs as a worker thread");
const { url, schema } = workerData as { url: string; schema?: string };
const db = await openDatabase(url, { schema, poolMax: 2 });
const reply = (message: RecordingReply) => port.postMessage(toWire(message));

/** Batches being written; closing waits for them. */
const writing = new Set<Promise<void>>();

port.on("message", (wire: string) => {
  const request = fromWire<RecordingRequest>(wire);
  if ("close" in request) {
    void Promise.allSettled(writing)
      .then(() => db.close())
      .finally(() => port.close());
    return;
  }
  const { id, at, items } = request;
  // The batch's time is the main thread's clock (a test's fake clock included).
  const clock = () => new Date(at);
  const write = db.kysely
    .transaction()
    .execute((trx) =>
      recordBatch({ deliveries: new DeliveriesRepo(trx, clock, db.engine), audit: new AuditRepo(trx, db.engine, clock) }, items),
    )
    .then(
      (results) => reply({ id, results }),
      (error: unknown) => reply({ id, error: (error as Error).message ?? String(error) }),
    );
  writing.add(write);
  void write.finally(() => writing.delete(write));
});
reply({ ready: true });
