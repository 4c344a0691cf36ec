// The admin roster's bootstrap: GHCONNECT_ADMINS seeds an empty roster once; after that the
// roster lives in the database and changes only through `/ghconnect admins …` (audited). Entries
// added by command are pending until their person proves the GHES login (`/ghconnect link`).
import type { AuditInput, AuditStore } from "./audit.js";
import { isProven, type RosterEntry } from "./authorize.js";
import { simpleMessage } from "./message.js";
import type { Notifier } from "./ports.js";

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

interface PendingNoticeDeps {
  store: {
    admins: { list(): Promise<RosterEntry[]> };
    jobs: { claim(name: string, periodMs: number, by: string): Promise<boolean> };
    appendAudit(input: AuditInput): Promise<unknown>;
  };
  notifier: Notifier;
  replica: string;
}

/** The roster entries that grant nothing yet (their Slack user has not proven their GHES login). */
export async function pendingEntries(admins: { list(): Promise<RosterEntry[]> }): Promise<RosterEntry[]> {
  return (await admins.list()).filter((a) => !isProven(a));
}

/** The sentence `status` and the one-time notice use for pending entries. */
export function pendingSentence(pending: RosterEntry[]): string {
  const who = pending.map((a) => `<@${a.slackUserId}> (\`${a.ghesLogin}\`)`).join(", ");
  return `${pending.length} admin roster ${pending.length === 1 ? "entry is pending and grants" : "entries are pending and grant"} nothing until the person runs \`/ghconnect link\` and signs in to GHES as that login: ${who}.`;
}

/**
 * Once per installation (claimed in the database, so one replica, once): entries added by
 * command before logins had to be proven are pending now; say so in the admin channel.
 */
export async function announcePendingRoster(deps: PendingNoticeDeps): Promise<boolean> {
  const pending = await pendingEntries(deps.store.admins);
  if (pending.length === 0) return false;
  if (!(await deps.store.jobs.claim("roster-pending-notice", 100 * 365 * 86_400_000, deps.replica))) return false;
  await deps.notifier.post(
    deps.notifier.adminChannel,
    simpleMessage(
      `:warning: ${pendingSentence(pending)}`,
      "Roster entries are bound to proven GHES logins; `GHCONNECT_ADMINS` stays trusted configuration.",
    ),
  );
  await deps.store.appendAudit({
    actor: { slack: null },
    action: "admins.pending_notice",
    outcome: "ok",
    details: { pending: pending.map((a) => `${a.slackUserId}:${a.ghesLogin}`) },
  });
  return true;
}
