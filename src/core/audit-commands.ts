// `/ghconnect audit [N]` and `/ghconnect audit verify`: the audit trail as an admin reads it, and
// its whole chain recomputed and compared with the admin channel's witness. Both are audited.
import { auditListing } from "./audit-listing.js";
import { authorizeAdmin } from "./authorize.js";
import type { Message } from "./message.js";
import type { FlowStore, GhesGateway, WitnessSource } from "./ports.js";
import { auditVerifyMessage, verifyTrail } from "./witness.js";

export interface AuditCommandsDeps {
  store: FlowStore;
  ghes: GhesGateway;
  /** The admin channel read back, where each entry's line was posted. */
  witnesses: WitnessSource;
}

export class AuditCommands {
  constructor(private readonly deps: AuditCommandsDeps) {}

  /** `audit [N]`: the newest N entries, newest first, within Slack's limits (see audit-listing). */
  async latest(limit: number, slackUserId: string): Promise<Message> {
    const { store, ghes } = this.deps;
    const admin = await authorizeAdmin(store.admins, ghes, slackUserId, "read the audit trail");
    const [entries, total] = await Promise.all([store.audit.latest(limit), store.audit.count()]);
    await store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "command.audit",
      outcome: "ok",
      details: { limit },
    });
    return auditListing({ entries, total });
  }

  /** `audit verify`: recomputes the whole chain and compares it with the admin channel's witness. */
  async verify(slackUserId: string): Promise<Message> {
    const { store, ghes, witnesses } = this.deps;
    const admin = await authorizeAdmin(store.admins, ghes, slackUserId, "verify the audit trail");
    const report = await verifyTrail(() => store.audit.all(), witnesses);
    await store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "audit.verify",
      outcome: report.ok ? "ok" : "failed",
      details: report.details,
    });
    return auditVerifyMessage(report);
  }
}
