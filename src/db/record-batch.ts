// One batch of answered commands' records: their Slack deliveries and their audit entries, in the
// caller's transaction. The same code runs on the main thread (Store) and on the recording thread
// (recording-worker.ts), so the two write exactly the same rows.
import type { AuditEntry, AuditInput } from "../core/audit.js";
import type { AuditRepo } from "./audit-repo.js";
import type { DeliveriesRepo } from "./deliveries-repo.js";

export interface SlackDelivery {
  deliveryId: string;
  kind: string;
}

/** An audit entry to append, with the Slack delivery it answers (recorded once: a retry writes nothing). */
export interface RecordItem {
  delivery?: SlackDelivery;
  input: AuditInput;
}

/** One result per item: its entry, or undefined when its delivery was recorded before. */
export async function recordBatch(tx: { deliveries: DeliveriesRepo; audit: AuditRepo }, items: RecordItem[]) {
  const withDelivery = items.flatMap((item) => (item.delivery ? [item.delivery] : []));
  const first = await tx.deliveries.recordFirstMany(withDelivery);
  let i = 0;
  const keep = items.map((item) => (item.delivery ? (first[i++] as boolean) : true));
  const entries = await tx.audit.appendMany(items.filter((_, k) => keep[k]).map((item) => item.input));
  let j = 0;
  return keep.map((kept): AuditEntry | undefined => (kept ? entries[j++] : undefined));
}
