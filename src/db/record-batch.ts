// One batch of answered commands' records: their Slack deliveries and their audit entries, in the
// caller's transaction. The same code runs on the main thread (Store) and on the recording thread
// (recording-worker.ts), so the two write exactly the same rows.
import type { AuditEntry, AuditInput } from "../core/audit.js";
import type { AuditRepo } from "./audit-repo.js";
import type { DeliveriesRepo } from "./deliveries-repo.js";
import type { RecordingReply, RecordingRequest } from "./recording-worker.js";

export interface SlackDelivery {
  deliveryId: string;
  kind: string;
}

/** An audit entry to append, with the Slack delivery it answers (recorded once: a retry writes nothing). */
export interface RecordItem {
  delivery?: SlackDelivery;
  input: AuditInput;
  /** The entry's id, chosen when the item is queued: a batch written elsewhere is found by it. */
  id: string;
}

/** One result per item: its entry, or undefined when its delivery was recorded before. */
export type RecordResults = Array<AuditEntry | undefined>;

export async function recordBatch(tx: { deliveries: DeliveriesRepo; audit: AuditRepo }, items: RecordItem[]): Promise<RecordResults> {
  const withDelivery = items.flatMap((item) => (item.delivery ? [item.delivery] : []));
  const first = await tx.deliveries.recordFirstMany(withDelivery);
  let i = 0;
  const keep = items.map((item) => (item.delivery ? (first[i++] as boolean) : true));
  const kept = items.filter((_, k) => keep[k]);
  const entries = await tx.audit.appendMany(
    kept.map((item) => item.input),
    kept.map((item) => item.id),
  );
  let j = 0;
  return keep.map((isKept) => (isKept ? entries[j++] : undefined));
}

/**
 * A batch the recording thread did not confirm: it may have committed it before it stopped. With
 * the chain locked (the thread's commit, if any, is then visible), the items already in the log
 * are returned as they are, and only the others are written; `found` were never announced.
 */
export async function recordUnconfirmed(tx: { deliveries: DeliveriesRepo; audit: AuditRepo }, items: RecordItem[]) {
  await tx.audit.lockChain();
  const found = new Map((await tx.audit.recentWithIds(items.map((item) => item.id))).map((entry) => [entry.id, entry]));
  const written = await recordBatch(
    tx,
    items.filter((item) => !found.has(item.id)),
  );
  let k = 0;
  const results = items.map((item) => found.get(item.id) ?? written[k++]);
  return { results, found: [...found.values()] };
}

/**
 * Batches and their results cross between the threads as JSON strings, not as objects for
 * structured cloning: V8 serializes and rebuilds a hundred small objects about twice as slowly as
 * JSON does. Nothing an entry holds is lost on the way (scrubDetails already made its details what
 * JSON keeps). An entry a batch did not write (undefined) arrives as null.
 */
export const toWire = (message: RecordingRequest | RecordingReply): string => JSON.stringify(message);
export const fromWire = <T extends RecordingRequest | RecordingReply>(wire: string): T => JSON.parse(wire) as T;
