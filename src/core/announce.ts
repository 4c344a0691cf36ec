// The admin channel's human line per audit entry that matters. Steps of an enable or a
// disconnect go in the thread of their card; other decisions are posted on their own; noisy
// entries (status, search, help, reads) are audited but not posted. Each line carries its entry's
// sequence number and hash, for people and as message metadata: the channel is the chain's
// witness outside the database (witness.ts).
import type { AuditEntry } from "./audit.js";
import { type Message, simpleMessage } from "./message.js";
import type { Notifier } from "./ports.js";
import { witnessMark } from "./witness.js";

type Card = { channel: string; ts: string } | null | undefined;

export interface AnnounceDeps {
  notifier: Notifier;
  operationCard(id: string): Promise<Card>;
  approvalCard(id: string): Promise<Card>;
  /** github.com, or SUBDOMAIN.ghe.com on GHE.com: how lines name the GitHub side. */
  githubSite?: string;
  onError(error: unknown): void;
}

const who = (e: AuditEntry) => (e.actor_slack ? `<@${e.actor_slack}>` : "ghconnect");
const reason = (e: AuditEntry) => (typeof e.details.reason === "string" ? e.details.reason : "");
/**
 * A coalesced refused click's entry stands for `count` clicks (refusals.ts): its line says so, or
 * the channel would show the repeats of a minute as one more click.
 */
const repeats = (e: AuditEntry) => {
  const count = e.details.count;
  const since = e.details.first_refused_at;
  if (typeof count !== "number" || count < 2) return "";
  return ` (${count} clicks${typeof since === "string" ? ` since ${since.slice(11, 16)} UTC` : ""})`;
};
const STATE_CHANGING = new Set(["enable", "disable", "feature", "admins-add", "admins-remove", "check", "audit", "audit-verify"]);

/** The line for an entry, and whether it belongs in a card's thread; undefined when not posted. */
export function humanLine(
  e: AuditEntry,
  githubSite = "github.com",
): { text: string; thread?: { operation?: string; approval?: string } } | undefined {
  const operation = typeof e.details.operation === "string" ? e.details.operation : undefined;
  const approval = typeof e.details.approval === "string" ? e.details.approval : undefined;
  const inThread = (text: string) => ({ text, thread: { operation, approval } });
  switch (e.action) {
    case "enable.preflight":
      return inThread(e.outcome === "ok" ? "✅ Preflight passed." : "❌ Preflight failed; nothing was changed.");
    case "enable.addendum_accepted":
      return e.outcome === "ok"
        ? inThread(`📝 ${who(e)} accepted the ${String(e.details.addendum_version)}.`)
        : inThread(`🚫 ${who(e)} could not accept: ${reason(e)}${repeats(e)}`);
    case "enable.app_created":
      return e.outcome === "ok"
        ? inThread(
            `🔧 App \`${String(e.details.app_slug)}\` (id ${String(e.details.app_id)}) created under ${String(e.details.app_owner)}.`,
          )
        : inThread(`❌ ${reason(e)}`);
    case "enable.app_registered":
      return inThread(
        `🔧 Credentials of the app \`${String(e.details.app_slug)}\` (id ${String(e.details.app_id)}) accepted: GitHub shows it owned by the enterprise ${String(e.details.app_owner)}.`,
      );
    case "enable.installed":
      return inThread(`❌ ${reason(e)}`);
    case "enable.interrupted":
      return inThread(`⚠️ Interrupted while completing; nothing was stored.`);
    case "enable.setup_refused":
      // Only a refusal inside the flow (its own state, a code GitHub refused) is the card's story;
      // requests without the flow's state are audited but not posted, or anyone could flood the channel.
      if (e.details.refusal === "authorization_refused")
        return inThread("⚠️ GitHub refused an authorization code returned to the setup page; still waiting for the installation.");
      if (e.details.refusal === "authorization_unverified")
        return inThread(
          `⚠️ GitHub could not be asked about the installer's authorization (${reason(e)}); still waiting for the installation.`,
        );
      return undefined;
    case "enable.connected":
      return inThread(
        `🔗 Connected ${e.target}: installation ${String(e.details.installation_id)}, installed by ${githubSite} \`${String(e.details.connected_by_github)}\`.`,
      );
    case "enable.cancelled":
      return inThread(`🚫 Cancelled by ${who(e)}.`);
    case "enable.expired":
      return inThread("⌛ Expired before it finished.");
    case "disable.approved":
      return inThread(`✅ ${who(e)} approved the disconnect.`);
    case "disable.approve":
      return inThread(`🚫 ${who(e)}'s click was refused: ${reason(e)}${repeats(e)}`);
    case "disable.github_failed":
      return inThread(`❌ GitHub failed: ${reason(e)}`);
    case "disable.interrupted":
      return inThread(`⚠️ ${reason(e)} Retry, or delete the local credentials anyway.`);
    case "disable.done":
      return inThread(`🔌 Disconnected ${e.target}; ${String(e.details.credentials_deleted)} credentials deleted.`);
    case "disable.cancelled":
      return inThread(`🚫 Cancelled by ${who(e)}.`);
    case "disable.expired":
      return inThread("⌛ Expired without approval.");
    case "connection.installation_added":
      return { text: `🏢 The app of the enterprise ${e.target} was installed on the organization ${String(e.details.organization)}.` };
    case "connection.installation_removed": {
      const none = Array.isArray(e.details.installed_on) && e.details.installed_on.length === 0;
      return {
        text: `🏢 The app of the enterprise ${e.target} was uninstalled from the organization ${String(e.details.organization)}.${
          none ? " No organization of the enterprise has it now." : ""
        }`,
      };
    }
    case "connection.installation_rehomed": {
      const from = Array.isArray(e.details.from_organizations) ? e.details.from_organizations.map(String) : [];
      return {
        text: `🏢 ${from.length ? `Installation on ${from.join(" or ")} removed` : `Installation ${String(e.details.from_installation)} removed`}; now using ${String(e.details.organization)} (installation ${String(e.details.to_installation)}) for the enterprise ${e.target}.`,
      };
    }
    case "connection.installation_lost": {
      const from = Array.isArray(e.details.from_organizations) ? e.details.from_organizations.map(String) : [];
      const untrusted = Array.isArray(e.details.untrusted_installations) ? e.details.untrusted_installations.map(String) : [];
      return {
        text: `⚠️ The installation ghconnect used for the enterprise ${e.target} (${from.length ? `on ${from.join(" or ")}, ` : ""}installation ${String(e.details.from_installation)}) was removed, and no installation ghconnect may move to remains, so it cannot get installation tokens. ghconnect moves only to an installation that was there when an owner of the enterprise completed the connection, and never to a suspended one${
          untrusted.length
            ? `; installation${untrusted.length === 1 ? "" : "s"} ${untrusted.join(", ")}, made later, ${untrusted.length === 1 ? "is" : "are"} not used, as GitHub does not say who installed ${untrusted.length === 1 ? "it" : "them"}`
            : ""
        }. To reconnect, an admin runs \`/ghconnect disable enterprise:${e.target}\`, then \`/ghconnect enable enterprise:${e.target}\`, and an owner of the enterprise installs the app through the link ghconnect gives.`,
      };
    }
    case "feature.enabled":
      return { text: `⚙️ ${who(e)} turned on \`${e.target}\`.` };
    case "feature.disabled":
      return { text: `⚙️ ${who(e)} turned off \`${e.target}\`.` };
    case "admins.added":
      return {
        text: `👤 ${who(e)} added <@${String(e.target).split(":")[0]}> (GHES \`${String(e.target).split(":")[1]}\`) to the ghconnect admins.${e.details.proven === false ? " The entry is pending until they link that GHES login." : ""}`,
      };
    case "admins.proven":
      return {
        text: `🔐 <@${String(e.target).split(":")[0]}> signed in to GHES as \`${String(e.target).split(":")[1]}\`: their admin entry is active.`,
      };
    case "link.linked":
      return {
        text: `🔗 ${who(e)} signed in and linked ${e.target === "github" ? githubSite : "GHES"} \`${String(e.details.login)}\` to their Slack account.`,
      };
    case "admins.removed":
      return { text: `👤 ${who(e)} removed <@${String(e.target).split(":")[0]}> from the ghconnect admins.` };
    case "native_feature.click":
      return { text: `🚫 ${who(e)}'s click on the \`${e.target}\` change was refused: ${reason(e)}${repeats(e)}` };
    case "native.observed":
      return { text: `👀 ${String(e.details.line)}` };
    case "native.watch_failed":
      return { text: `⚠️ ghconnect cannot watch GHES's own GitHub Connect: ${reason(e)}` };
    case "native.watch_recovered":
      return { text: "✅ ghconnect reads GHES's audit log again." };
    case "audit.verify":
      if (e.outcome === "ok") return undefined;
      return typeof e.details.bad_seq === "number"
        ? { text: `🚨 The audit chain is broken at entry #${e.details.bad_seq}: ${reason(e)}` }
        : { text: `🚨 The audit trail does not match the admin channel. ${reason(e)}` };
    default: {
      // Refused attempts at state-changing commands matter to an auditor.
      const command = e.action.startsWith("command.") ? e.action.slice("command.".length) : undefined;
      if (command && e.outcome === "refused" && STATE_CHANGING.has(command)) {
        const verb = typeof e.details.verb === "string" ? ` ${e.details.verb}` : "";
        // As typed in Slack: `admins add`, `audit verify` (the entry's action joins the words with a hyphen).
        return { text: `🚫 ${who(e)} tried \`${command.replace("-", " ")}${verb}${e.target ? ` ${e.target}` : ""}\`: ${reason(e)}` };
      }
      return undefined;
    }
  }
}

/** Posts the line for one committed entry, if it is one that matters (see humanLine). */
export async function announce(deps: Omit<AnnounceDeps, "onError">, entry: AuditEntry): Promise<void> {
  const line = humanLine(entry, deps.githubSite);
  if (!line) return;
  let card: Card;
  if (line.thread?.operation) card = await deps.operationCard(line.thread.operation);
  else if (line.thread?.approval) card = await deps.approvalCard(line.thread.approval);
  if (line.thread && !card) return; // a step whose card is not posted is shown by the card alone
  const witness = { seq: entry.seq, hash: entry.hash };
  const message: Message = simpleMessage(line.text, witnessMark(witness));
  await deps.notifier.postWitnessed({ channel: card?.channel ?? deps.notifier.adminChannel, message, threadTs: card?.ts, witness });
}

/** Posts the line for each committed entry; never blocks or fails the action it describes. */
export function createAnnouncer(deps: AnnounceDeps): (entry: AuditEntry) => void {
  return (entry) => {
    if (!humanLine(entry)) return;
    void announce(deps, entry).catch(deps.onError);
  };
}
