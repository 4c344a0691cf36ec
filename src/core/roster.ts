// The admin roster: GHCONNECT_ADMINS seeds an empty roster once; after that the roster lives in
// the database and changes only through `/ghconnect admins …` (audited, below). Entries added by
// command are pending until their person proves the GHES login (`/ghconnect link`).
import type { AuditInput, AuditStore } from "./audit.js";
import { authorizeAdmin, isProven, notInRoster, type RosterEntry } from "./authorize.js";
import { when } from "./enable-card.js";
import { NotAuthorized, UserError } from "./errors.js";
import { type Block, type Message, simpleMessage } from "./message.js";
import type { FlowStore, GhesGateway, Notifier } from "./ports.js";

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

export interface RosterCommandsDeps {
  store: FlowStore;
  ghes: GhesGateway;
}

/** `admins add`: who is added (a Slack user), as which GHES login, by whom. */
export interface RosterAddition {
  target: string;
  ghesLogin: string;
  bySlack: string;
}

/** `/ghconnect admins`, `admins add`, `admins remove`: the roster, read and changed by admins, audited. */
export class RosterCommands {
  constructor(private readonly deps: RosterCommandsDeps) {}

  /** `admins`: the roster, to admins only. */
  async list(slackUserId: string): Promise<Message> {
    const list = await this.deps.store.admins.list();
    if (!(await this.deps.store.admins.find(slackUserId)))
      throw new NotAuthorized("Only admins can see the roster.", "Ask an admin to add you.");
    const lines = list.map(
      (a) =>
        `• <@${a.slackUserId}> — GHES \`${a.ghesLogin}\` (added by ${a.addedBy.startsWith("U") ? `<@${a.addedBy}>` : a.addedBy}, ${when(a.addedAt)})${isProven(a) ? "" : " — *pending* until they link that GHES login"}`,
    );
    const blocks: Block[] = [
      { kind: "header", text: `Admins (${list.length})` },
      { kind: "text", text: lines.join("\n") || "No admins." },
      { kind: "context", text: "Each admin's GHES site-admin right is checked live at every action." },
    ];
    return { text: `${list.length} admins`, blocks };
  }

  /** `admins add @USER GHES_LOGIN`: a GHES site admin, pending until they prove that login. */
  async add({ target, ghesLogin, bySlack }: RosterAddition): Promise<Message> {
    const admin = await this.rosterChanger(bySlack);
    await this.requireSiteAdmin(target, ghesLogin, admin.ghesLogin);
    const added = await this.addEntry({ target, ghesLogin, bySlack }, admin.ghesLogin);
    if (added === false) return simpleMessage(`<@${target}> is already an admin as \`${ghesLogin}\`. Nothing was changed.`);
    if ("holder" in added) {
      throw new UserError(
        `The GHES login \`${ghesLogin}\` already belongs to <@${added.holder}>; a GHES login belongs to one person, so <@${target}> was not added.`,
        "Remove the other entry first if it is the same person's old Slack account.",
        { ghes: admin.ghesLogin },
      );
    }
    if (added.proven) return simpleMessage(`Added <@${target}> (GHES \`${ghesLogin}\`, already proven) to the admins.`);
    return simpleMessage(
      `Added <@${target}> (GHES \`${ghesLogin}\`) to the admins as *pending*: the entry grants nothing until <@${target}> runs \`/ghconnect link\` and signs in to GHES as \`${ghesLogin}\`.`,
    );
  }

  /** `admins remove @USER`: never the last admin. */
  async remove(target: string, bySlack: string): Promise<Message> {
    const admin = await this.rosterChanger(bySlack);
    const outcome = await this.removeEntry(target, { slack: bySlack, ghes: admin.ghesLogin });
    if (outcome === "remover gone") throw notInRoster("change the admin roster");
    if (outcome === "absent") return simpleMessage(`<@${target}> is not an admin. Nothing was changed.`);
    if (outcome === "last")
      throw new UserError(
        `<@${target}> is the last admin and cannot be removed: nobody could manage ghconnect afterwards.`,
        "Add another admin first.",
        { ghes: admin.ghesLogin },
      );
    return simpleMessage(`Removed <@${target}> from the admins.`);
  }

  private rosterChanger(slackUserId: string) {
    return authorizeAdmin(this.deps.store.admins, this.deps.ghes, slackUserId, "change the admin roster");
  }

  /** Only GHES site admins can be ghconnect admins, asked of GHES now. */
  private async requireSiteAdmin(target: string, ghesLogin: string, changerLogin: string): Promise<void> {
    const status = await this.deps.ghes.user(ghesLogin);
    if (status.siteAdmin) return;
    throw new UserError(
      status.exists
        ? `\`${ghesLogin}\` is not a site administrator on GHES now, so <@${target}> was not added.`
        : `There is no GHES user \`${ghesLogin}\`, so <@${target}> was not added.`,
      "Only GHES site admins can be ghconnect admins. Promote them on GHES first.",
      { ghes: changerLogin },
    );
  }

  /** Adds and audits the entry; false when it was there already, the holder when the login is someone else's. */
  private addEntry({ target, ghesLogin, bySlack }: RosterAddition, changerLogin: string) {
    return this.deps.store.transaction(async (tx) => {
      // One GHES login, one person: a second Slack identity for the same login would let one
      // person be both requester and approver.
      await tx.admins.lockRoster();
      const holder = (await tx.admins.findByLogin(ghesLogin))?.slackUserId ?? (await tx.links.ownerOf("ghes", ghesLogin));
      if (holder && holder !== target) return { holder };
      if (!(await tx.admins.upsert(target, ghesLogin, bySlack))) return false;
      const entry = await tx.admins.find(target);
      const proven = entry !== undefined && isProven(entry);
      await tx.audit.append({
        actor: { slack: bySlack, ghes: changerLogin },
        action: "admins.added",
        target: `${target}:${ghesLogin}`,
        outcome: "ok",
        details: { proven },
      });
      return { proven };
    });
  }

  /** Removes and audits the entry, unless it is absent, the last one, or the remover is gone meanwhile. */
  private removeEntry(target: string, actor: { slack: string; ghes: string }) {
    return this.deps.store.transaction(async (tx) => {
      // Two admins removing each other at once must not both succeed and empty the roster: the
      // roster lock serializes removals (and the bootstrap), so these checks see the other's change.
      await tx.admins.lockRoster();
      if (!(await tx.admins.find(actor.slack))) return "remover gone" as const;
      const entry = await tx.admins.find(target);
      if (!entry) return "absent" as const;
      if ((await tx.admins.count()) <= 1) return "last" as const;
      await tx.admins.remove(target);
      await tx.audit.append({ actor, action: "admins.removed", target: `${target}:${entry.ghesLogin}`, outcome: "ok" });
      return "removed" as const;
    });
  }
}
