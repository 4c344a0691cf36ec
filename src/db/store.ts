// The database as the rest of the app sees it: repositories over one Kysely executor, and
// transactions that hand the same repositories bound to the transaction.
import type { Kysely } from "kysely";
import type { AuditEntry, AuditInput } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import { AdminsRepo } from "./admins-repo.js";
import { AuditRepo } from "./audit-repo.js";
import type { Db, Engine } from "./database.js";
import { DeliveriesRepo } from "./deliveries-repo.js";
import type { Database } from "./schema.js";

export class Repos {
  readonly audit: AuditRepo;
  readonly deliveries: DeliveriesRepo;
  readonly admins: AdminsRepo;
  constructor(
    readonly q: Kysely<Database>,
    readonly engine: Engine,
    readonly clock: Clock,
  ) {
    this.audit = new AuditRepo(q, engine, clock);
    this.deliveries = new DeliveriesRepo(q, clock);
    this.admins = new AdminsRepo(q, clock);
  }
}

export class Store extends Repos {
  constructor(
    readonly db: Db,
    clock: Clock,
  ) {
    super(db.kysely, db.engine, clock);
  }

  /** Runs fn in one transaction; everything it writes, audit entries included, lands or none does. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.db.kysely.transaction().execute((trx) => fn(new Repos(trx, this.engine, this.clock)));
  }

  /** Appends one audit entry on its own (for events that change nothing else). */
  appendAudit(input: AuditInput): Promise<AuditEntry> {
    return this.transaction((tx) => tx.audit.append(input));
  }
}
