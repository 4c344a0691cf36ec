// The store as core uses it: one port per repository, with exactly the methods core's flows call,
// typed in core's own records. db/'s repositories implement these (a mismatch fails to compile
// there); ports.ts re-exports them, so core's flows import the store from one place.
import type { AuditEntry, AuditInput, AuditStore } from "./audit.js";
import type { LinksStore } from "./identity.js";
import type {
  AdminRecord,
  Approval,
  ApprovalStatus,
  Connection,
  CredentialOwner,
  DueTally,
  FeatureState,
  NewConnectionRecord,
  NewOperation,
  Operation,
  OperationPatch,
  OperationStatus,
  StateCheck,
  StatePurpose,
} from "./model.js";
import type { NativeRequestStore } from "./native/governed.js";
import type { CredentialVault } from "./ports.js";

/** The audit trail: appended inside a transaction, read back for `audit` and `audit verify`. */
export interface AuditLogStore extends AuditStore {
  /** Appends entries in order, each chained to the one before. */
  appendMany(inputs: AuditInput[]): Promise<AuditEntry[]>;
  /** The newest `limit` entries, newest first. */
  latest(limit: number): Promise<AuditEntry[]>;
  /** Every entry in chain order (read a page at a time). */
  all(options?: { since?: string; pageSize?: number }): AsyncIterable<AuditEntry>;
  count(): Promise<number>;
}

/** The admin roster. */
export interface AdminsStore {
  /** Inside a transaction: no other replica reads or changes the roster until it ends. */
  lockRoster(): Promise<void>;
  find(slackUserId: string): Promise<AdminRecord | undefined>;
  list(): Promise<AdminRecord[]>;
  /** The entry holding this GHES login (case-insensitive), if any. */
  findByLogin(ghesLogin: string): Promise<AdminRecord | undefined>;
  count(): Promise<number>;
  /** Adds or re-links the admin; false when the same link already existed. */
  upsert(slackUserId: string, ghesLogin: string, addedBy: string): Promise<boolean>;
  remove(slackUserId: string): Promise<boolean>;
}

/** Enable and disable operations; at most one in flight. */
export interface OperationsStore {
  /** Records the operation as in flight; false when another one already is. */
  startIfIdle(op: NewOperation): Promise<boolean>;
  get(id: string): Promise<Operation | undefined>;
  inFlight(): Promise<Operation | undefined>;
  expiredInFlight(now: Date): Promise<Operation[]>;
  /**
   * Moves the operation on only if it is still in one of `from` (and at `version`, when given);
   * the updated operation, or undefined when someone else moved it first.
   */
  transition(id: string, from: readonly OperationStatus[], patch: OperationPatch, version?: number): Promise<Operation | undefined>;
  /** Records where the operation's card lives; not a state change. */
  setCard(id: string, card: { channel: string; ts: string }): Promise<void>;
}

/** The encrypted credentials of operations and connections. */
export interface CredentialsStore extends CredentialVault {
  /** Hands an operation's credentials to the connection it created; how many. */
  transfer(operationId: string, connectionId: string): Promise<number>;
  /** Deletes every credential of the owner; how many. */
  deleteAll(owner: CredentialOwner): Promise<number>;
}

/** One-time `state` values of the enable and link flows, bound to an operation (or a person). */
export interface StatesStore {
  create(state: string, operationId: string, purpose: StatePurpose, ttlMs: number): Promise<void>;
  /** Looks the state up without using it (a page may be reloaded). */
  peek(state: string, purpose: StatePurpose): Promise<StateCheck>;
  /** Uses the state: exactly one caller ever gets ok for a given state. */
  consume(state: string, purpose: StatePurpose): Promise<StateCheck>;
  /** Forgets every state of an operation (when it ends). */
  dropForOperation(operationId: string): Promise<void>;
}

/** Tallies of refused requests to the unauthenticated pages, turned into audit entries at most once a minute. */
export interface RefusalsStore {
  /** Counts one refusal of this kind; the tally's key. */
  count(entry: AuditInput): Promise<string>;
  /** Claims the tallies due an audit entry (only `key`'s when given), resetting them. */
  claimDue(everyMs: number, key?: string): Promise<DueTally[]>;
  /** Forgets tallies with nothing pending whose last entry is older than `olderThanMs`. */
  prune(olderThanMs: number): Promise<void>;
}

/** The connection records: one active at most; disconnected ones are kept. */
export interface ConnectionsStore {
  active(): Promise<Connection | undefined>;
  latest(): Promise<Connection | undefined>;
  get(id: string): Promise<Connection | undefined>;
  insertActive(c: NewConnectionRecord): Promise<void>;
  /** Records the organizations an enterprise's app is installed on, only if they are still `before`. */
  setInstalledOn(id: string, before: string[] | null, after: string[]): Promise<boolean>;
  /** Moves an enterprise connection to another installation, only if it still uses `from`. */
  rehome(id: string, from: number, to: number): Promise<boolean>;
  /** Records, once, that installation `from` is gone with none to move to. */
  noteInstallationLost(id: string, from: number): Promise<boolean>;
  /** Marks the connection disconnected only if it is still the active one at `version`. */
  markDisconnected(id: string, version: number, bySlack: string): Promise<boolean>;
  /** Records a fresh look at GHES. */
  noteChecked(id: string, ghesVersionNow: string): Promise<void>;
  noteRegistrationDeleted(id: string): Promise<void>;
}

/** Disconnect approvals; each move is conditional, so one click wins. */
export interface ApprovalsStore {
  create(a: Omit<Approval, "status" | "decidedBySlack" | "decidedAt" | "card" | "error" | "action">): Promise<void>;
  get(id: string): Promise<Approval | undefined>;
  /** The connection's request still open or failed, if any. */
  pendingFor(connectionId: string): Promise<Approval | undefined>;
  setCard(id: string, card: { channel: string; ts: string }): Promise<void>;
  /** pending → approved by `by`, only if still pending and unexpired; true for the one winner. */
  claim(id: string, by: string): Promise<boolean>;
  /** Moves the approval on only if it is in one of `from`; true when this call moved it. */
  transition(
    id: string,
    from: ApprovalStatus[],
    to: ApprovalStatus,
    patch?: { error?: string | null; decidedBy?: string },
  ): Promise<boolean>;
  /** The executing bot's heartbeat; false when the request is no longer executing. */
  renewLease(id: string): Promise<boolean>;
  expiredPending(now: Date): Promise<Approval[]>;
  /** Approvals executing with no heartbeat since before `before`. */
  executingSince(before: Date): Promise<Approval[]>;
}

/** The GitHub Connect features' state. */
export interface FeaturesStore {
  all(): Promise<FeatureState[]>;
  isEnabled(name: string): Promise<boolean>;
  /** Sets the state; false when it already was that. */
  set(name: string, enabled: boolean, bySlack: string): Promise<boolean>;
  /** Turns every feature off; the names that were on. */
  allOff(bySlack: string): Promise<string[]>;
}

/** Periodic jobs run once per period across replicas. */
export interface JobsStore {
  /** true for exactly one caller per `periodMs`. */
  claim(name: string, periodMs: number, by: string): Promise<boolean>;
}

/** The server statistics snapshots. */
export interface StatsStore {
  add(id: string, data: Record<string, unknown>): Promise<void>;
  /** The latest snapshots, newest first. */
  latest(limit: number): Promise<Array<{ takenAt: string; data: Record<string, unknown> }>>;
}

/**
 * The repositories core uses, in or out of a transaction. db/ provides them; the query builder,
 * engine and secret box behind them stay there, so no SQL type reaches core through this port.
 */
export interface FlowRepos {
  readonly audit: AuditLogStore;
  readonly admins: AdminsStore;
  readonly operations: OperationsStore;
  readonly credentials: CredentialsStore;
  readonly states: StatesStore;
  readonly refusals: RefusalsStore;
  readonly connections: ConnectionsStore;
  readonly approvals: ApprovalsStore;
  readonly features: FeaturesStore;
  readonly jobs: JobsStore;
  readonly stats: StatsStore;
  readonly links: LinksStore;
  readonly nativeRequests: NativeRequestStore;
}

/** The store as core's flows use it: the repositories, in or out of a transaction, and the audit trail. */
export interface FlowStore extends FlowRepos {
  transaction<T>(fn: (tx: FlowRepos) => Promise<T>): Promise<T>;
  appendAudit(input: AuditInput): Promise<unknown>;
}
