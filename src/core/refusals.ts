// Refusals of the pages anyone can request (setup, callback, manifest) are audited, but a flood
// of forged requests must not grow the audit trail: per page and reason, at most one entry a
// minute, carrying the `count` of refusals it stands for; the others are logged at info. The
// tally lives in the database (one conditional upsert and claim), so replicas share it, a restart
// loses no count, and the entries' counts always add up to the refusals.
import type { Repos } from "../db/store.js";
import type { AuditInput } from "./audit.js";

/** Where a refusal that did not get its own audit entry is logged (pino's logger fits). */
export interface InfoLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface RefusalLogDeps {
  store: { transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> };
  log?: InfoLog;
  /** At most one entry per page and reason this often (default one minute). */
  everyMs?: number;
}

export const REFUSAL_ENTRY_EVERY_MS = 60_000;
/** A tally with nothing pending is forgotten a day after its last entry. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

export class RefusalLog {
  constructor(private readonly deps: RefusalLogDeps) {}

  private get everyMs(): number {
    return this.deps.everyMs ?? REFUSAL_ENTRY_EVERY_MS;
  }

  /** Counts a refusal; audits it (with the refusals since the last entry) unless an entry of its kind is less than a minute old. */
  async record(entry: AuditInput): Promise<void> {
    const audited = await this.deps.store.transaction(async (tx) => {
      const key = await tx.refusals.count(entry);
      const due = await tx.refusals.claimDue(this.everyMs, key);
      await tx.audit.appendMany(due.map(withCount));
      return due.length > 0;
    });
    if (!audited)
      this.deps.log?.info(
        { action: entry.action, target: entry.target ?? null, ...entry.details },
        "refused request counted toward the next audit entry of its kind",
      );
  }

  /** Audits the refusals still pending whose kind has had no entry for a minute (the app's sweep). */
  async flush(): Promise<number> {
    return this.deps.store.transaction(async (tx) => {
      const due = await tx.refusals.claimDue(this.everyMs);
      await tx.audit.appendMany(due.map(withCount));
      await tx.refusals.prune(FORGET_AFTER_MS);
      return due.length;
    });
  }
}

function withCount(due: { entry: AuditInput; count: number; since: string }): AuditInput {
  return { ...due.entry, details: { ...due.entry.details, count: due.count, first_refused_at: due.since } };
}

/**
 * A refused click on a card (someone not allowed pressing "Accept addendum" or "Disconnect"), as
 * the refusal log counts it: keyed by who clicked, so one person clicking again and again gets one
 * audit entry (and one line in the card's thread) a minute with the count, and never hides
 * another person's refusal.
 */
export function refusedClick(refused: {
  actor: AuditInput["actor"];
  action: string;
  target: string;
  details: Record<string, unknown>;
}): AuditInput {
  return {
    actor: refused.actor,
    action: refused.action,
    target: refused.target,
    outcome: "refused",
    details: { ...refused.details, clicked_by: refused.actor.slack ?? null },
  };
}
