// One way to refuse. A refusal is a value with a code (as Bolt's coded errors have) and the
// sentence the person reads; core returns it, the renderer (refusalMessage) adds the emoji. A
// command's refusal is a thrown UserError, which the router audits and renders alike; a click's
// is audited here (authorizeClick, refuseClick).
//
// Refusals of the pages anyone can request (setup, callback, manifest) are audited, but a flood
// of forged requests must not grow the audit trail: per page and reason, at most one entry a
// minute, carrying the `count` of refusals it stands for; the others are logged at info. The
// tally lives in the database (one conditional upsert and claim), so replicas share it, a restart
// loses no count, and the entries' counts always add up to the refusals.
import type { Actor, AuditInput } from "./audit.js";
import { type AdminIdentity, authorizeAdmin, type RosterLookup } from "./authorize.js";
import { NotAuthorized } from "./errors.js";
import type { FlowStore, GhesGateway } from "./ports.js";

/** Where a refusal that did not get its own audit entry is logged (pino's logger fits). */
export interface InfoLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface RefusalLogDeps {
  store: Pick<FlowStore, "transaction">;
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

export type RefusalCode =
  /** Not an admin now (not in the roster, pending, not a GHES site admin). */
  | "not_authorized"
  /** Only the person who asked may take this step. */
  | "not_requester"
  /** Four eyes: the person who asked cannot also approve. */
  | "same_person"
  | "expired"
  /** What the request was about changed since it was made. */
  | "stale"
  /** Another click, replica or sweep got there first. */
  | "not_pending";

export interface Refusal {
  readonly code: RefusalCode;
  /** The sentence the person reads, and the audit entry's reason. */
  readonly reason: string;
  /** What to do next, shown under the sentence. */
  readonly hint?: string;
  /** Who was refused beyond the Slack user (their GHES login, once known), for the audit entry. */
  readonly actor?: Actor;
}

export function isRefusal(value: object): value is Refusal {
  return "code" in value && "reason" in value;
}

/** A thrown NotAuthorized as a refusal value. */
export function asRefusal(error: NotAuthorized): Refusal {
  return { code: "not_authorized", reason: error.message, hint: error.hint, actor: error.actor };
}

/** The click being refused, as its audit entry names it: `action` on `target`, with the request's id in `details`. */
export interface Click {
  slackUserId: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** Counts the refused click on the audit trail and returns the refusal. */
export async function refuseClick(refusals: RefusalLog, click: Click, refusal: Refusal): Promise<Refusal> {
  await refusals.record(
    refusedClick({
      actor: { slack: click.slackUserId, ...refusal.actor },
      action: click.action,
      target: click.target,
      details: { ...click.details, reason: refusal.reason },
    }),
  );
  return refusal;
}

export interface ClickAuthorizer {
  admins: RosterLookup;
  ghes: GhesGateway;
  refusals: RefusalLog;
}

/** Authorize, or audit the refusal: the clicker as an admin, checked live now, or why not, counted. */
export async function authorizeClick(deps: ClickAuthorizer, click: Click & { doing: string }): Promise<AdminIdentity | Refusal> {
  try {
    return await authorizeAdmin(deps.admins, deps.ghes, click.slackUserId, click.doing);
  } catch (error) {
    if (!(error instanceof NotAuthorized)) throw error;
    return refuseClick(deps.refusals, click, asRefusal(error));
  }
}
