// The admin roster's bootstrap: GHCONNECT_ADMINS seeds an empty roster once; after that the
// roster lives in the database and changes only through `/ghconnect admins …` (audited).
import type { AuditStore } from "./audit.js";

interface RosterTx {
  admins: {
    lockRoster(): Promise<void>;
    count(): Promise<number>;
    upsert(slackUserId: string, ghesLogin: string, addedBy: string): Promise<boolean>;
  };
  audit: AuditStore;
}

interface RosterStore {
  transaction<T>(fn: (tx: RosterTx) => Promise<T>): Promise<T>;
}

/** Seeds the roster from the environment when it is empty; audits the seeding. */
export async function seedAdminRoster(store: RosterStore, bootstrap: Array<{ slackUserId: string; ghesLogin: string }>): Promise<number> {
  if (bootstrap.length === 0) return 0;
  return store.transaction(async (tx) => {
    // Replicas starting together must not both find it empty and both seed (and audit) it.
    await tx.admins.lockRoster();
    if ((await tx.admins.count()) > 0) return 0;
    for (const admin of bootstrap) await tx.admins.upsert(admin.slackUserId, admin.ghesLogin, "GHCONNECT_ADMINS");
    await tx.audit.append({
      actor: { slack: null },
      action: "admins.bootstrap",
      outcome: "ok",
      details: { source: "GHCONNECT_ADMINS", admins: bootstrap.map((a) => `${a.slackUserId}:${a.ghesLogin}`) },
    });
    return bootstrap.length;
  });
}
