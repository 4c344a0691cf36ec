// The database as the rest of the app sees it: repositories over one Kysely executor, and
// transactions that hand the same repositories bound to the transaction.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { AuditEntry, AuditInput } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import type { FlowRepos, FlowStore } from "../core/ports.js";
import { AdminsRepo } from "./admins-repo.js";
import { ApprovalsRepo } from "./approvals-repo.js";
import { AuditRepo } from "./audit-repo.js";
import { ConnectionsRepo } from "./connections-repo.js";
import { CredentialsRepo } from "./credentials-repo.js";
import type { Db, Engine } from "./database.js";
import { DeliveriesRepo } from "./deliveries-repo.js";
import { EncryptionKeysRepo } from "./encryption-keys-repo.js";
import { FeaturesRepo } from "./features-repo.js";
import { GroupCommit } from "./group-commit.js";
import { JobsRepo, StatsRepo } from "./jobs-repo.js";
import { LinksRepo } from "./links-repo.js";
import { NativeRequestsRepo } from "./native-requests-repo.js";
import { OperationsRepo } from "./operations-repo.js";
import { type RecordItem, recordBatch, recordUnconfirmed, type SlackDelivery } from "./record-batch.js";
import type { RecordingThread } from "./recording-thread.js";
import { RefusalsRepo } from "./refusals-repo.js";
import type { Database } from "./schema.js";
import type { SecretBox } from "./secret-box.js";
import { StatesRepo } from "./states-repo.js";

/** Records per batch written by the recording thread (hashing, binding and the writes all happen there). */
export const RECORDING_BATCH = 1000;
/** Records per batch written on the main thread, where hashing a batch holds up the acks. */
const MAIN_THREAD_BATCH = 200;

/** Every repository over one executor; core sees them through FlowRepos, the rest (deliveries, keys) serve db/ and start-up. */
export class Repos implements FlowRepos {
  readonly audit: AuditRepo;
  readonly deliveries: DeliveriesRepo;
  readonly admins: AdminsRepo;
  readonly operations: OperationsRepo;
  readonly credentials: CredentialsRepo;
  readonly encryptionKeys: EncryptionKeysRepo;
  readonly states: StatesRepo;
  readonly refusals: RefusalsRepo;
  readonly connections: ConnectionsRepo;
  readonly approvals: ApprovalsRepo;
  readonly features: FeaturesRepo;
  readonly jobs: JobsRepo;
  readonly stats: StatsRepo;
  readonly links: LinksRepo;
  readonly nativeRequests: NativeRequestsRepo;
  constructor(
    readonly q: Kysely<Database>,
    readonly engine: Engine,
    readonly clock: Clock,
    readonly box: SecretBox,
    appended?: AuditEntry[],
  ) {
    this.audit = new AuditRepo(q, engine, clock, appended);
    this.deliveries = new DeliveriesRepo(q, clock, engine);
    this.admins = new AdminsRepo(q, clock, engine);
    this.operations = new OperationsRepo(q, clock);
    this.credentials = new CredentialsRepo({ q, engine, clock, box });
    this.encryptionKeys = new EncryptionKeysRepo(q, engine, clock);
    this.states = new StatesRepo(q, clock);
    this.refusals = new RefusalsRepo(q, clock);
    this.connections = new ConnectionsRepo(q, clock);
    this.approvals = new ApprovalsRepo(q, clock);
    this.features = new FeaturesRepo(q, clock);
    this.jobs = new JobsRepo(q, clock);
    this.stats = new StatsRepo(q, clock);
    this.links = new LinksRepo(q, clock, box);
    this.nativeRequests = new NativeRequestsRepo(q, clock);
  }
}

export class Store extends Repos implements FlowStore {
  constructor(
    readonly db: Db,
    clock: Clock,
    box: SecretBox,
  ) {
    super(db.kysely, db.engine, clock, box);
  }

  private readonly auditListeners: Array<(entry: AuditEntry) => void> = [];

  /** Called with every audit entry once its transaction has committed. */
  onAudit(listener: (entry: AuditEntry) => void): void {
    this.auditListeners.push(listener);
  }

  /** Runs fn in one transaction; everything it writes, audit entries included, lands or none does. */
  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    const appended: AuditEntry[] = [];
    const result = await this.db.kysely.transaction().execute((trx) => fn(new Repos(trx, this.engine, this.clock, this.box, appended)));
    this.announce(appended);
    return result;
  }

  private readonly firstDeliveries = new GroupCommit<SlackDelivery, boolean>((items) => this.deliveries.recordFirstMany(items));

  /**
   * Appends one audit entry on its own (for events that change nothing else). Entries appended
   * at the same moment share a transaction (group commit); each is still its own link.
   */
  appendAudit(input: AuditInput): Promise<AuditEntry> {
    return this.audits.add({ input, id: randomUUID() }) as Promise<AuditEntry>;
  }

  /** Records a Slack delivery; false when any replica saw it before (group-committed too). */
  firstDelivery(deliveryId: string, kind: string): Promise<boolean> {
    return this.firstDeliveries.add({ deliveryId, kind });
  }

  /**
   * Where batches of records are written when they need no other work in their transaction: the
   * recording thread (recording-thread.ts), while it runs; the main thread otherwise.
   */
  recordingThread?: RecordingThread;

  /**
   * One queue for every audit entry appended on its own, with or without a delivery to record.
   * Each batch is one transaction. The recording thread's are large: each costs it several round
   * trips to the database, each a wake-up of two threads that, on a busy machine, wait their turn
   * for a core, so under sustained load batches of 200 took longer to write than 200 answers took
   * to arrive, the backlog grew and acks were paced. On the main thread (no recording thread) they
   * stay small, so the acks never wait behind a long synchronous step of hashing.
   */
  private readonly audits = new GroupCommit<RecordItem, AuditEntry | undefined>(
    (items) => this.recordItems(items),
    () => (this.recordingThread?.ready ? RECORDING_BATCH : MAIN_THREAD_BATCH),
  );

  private async recordItems(items: RecordItem[]): Promise<Array<AuditEntry | undefined>> {
    const thread = this.recordingThread;
    if (!thread?.ready) return this.transaction((tx) => recordBatch(tx, items));
    const confirmed = await thread.write(items, this.clock()).catch(() => undefined);
    if (confirmed) {
      this.announce(confirmed);
      return confirmed;
    }
    // Written here instead, in one transaction (a rare, one-off long step); what the thread did
    // commit after all is found, not written twice.
    const { results, found } = await this.transaction((tx) => recordUnconfirmed(tx, items));
    this.announce(found);
    return results;
  }

  private announce(entries: Array<AuditEntry | undefined>): void {
    for (const entry of entries) if (entry) for (const listener of this.auditListeners) listener(entry);
  }

  /**
   * For a command already answered: records its Slack delivery and its audit entry together, in
   * one group-committed transaction, unless the delivery was seen before (Slack's retry of it,
   * which got the same answer): then nothing is written and the result is undefined.
   */
  auditOnce(delivery: SlackDelivery | undefined, input: AuditInput): Promise<AuditEntry | undefined> {
    return this.audits.add({ delivery, input, id: randomUUID() });
  }
}
