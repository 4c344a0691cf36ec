// What `/ghconnect status` shows: the connection as the database knows it, the features, and
// any enable, disconnect or approval under way, each state said in words.
import { when } from "../enable-card.js";
import { FEATURES } from "../features.js";
import type { Block, Message } from "../message.js";
import type { ApprovalStatus, Connection, Operation, OperationStatus } from "../model.js";

/** Each state of an enable or disable, in the words `status` shows (never the stored name). */
export const OPERATION_STATE_WORDS: Record<OperationStatus, string> = {
  preflight: "running its preflight checks",
  awaiting_addendum: "waiting for the GitHub Connect Addendum to be accepted",
  awaiting_github: "waiting for the app to be created and installed on GitHub",
  awaiting_install: "waiting for the installation on GitHub (the app is created)",
  completing: "storing the connection",
  succeeded: "done",
  failed: "failed",
  expired: "expired",
  cancelled: "cancelled",
};

/** An enterprise's app is registered by an owner by hand, then installed on its organizations. */
const ENTERPRISE_STATE_WORDS: Partial<Record<OperationStatus, string>> = {
  awaiting_github: "waiting for an enterprise owner to register the app by hand on GitHub and hand its credentials to ghconnect",
  awaiting_install: "waiting for the app to be installed on the enterprise's organizations (the app is registered)",
};

/** An operation's state in words, as its account kind makes it read. */
export function operationStateWords(op: Pick<Operation, "status" | "accountKind">): string {
  return (op.accountKind === "enterprise" ? ENTERPRISE_STATE_WORDS[op.status] : undefined) ?? OPERATION_STATE_WORDS[op.status];
}

/** Each state of a disconnect request, in words; "peer" requests wait for someone else. */
export function approvalStateWords(status: ApprovalStatus, policy: "self" | "peer"): string {
  const words: Record<ApprovalStatus, string> = {
    pending: policy === "peer" ? "waiting for another admin's approval" : "waiting for an admin's approval",
    approved: "approved and about to start",
    executing: "being carried out",
    done: "done",
    failed: "failed (its card says why)",
    cancelled: "cancelled",
    expired: "expired",
    stale: "no longer valid: the connection changed",
  };
  return words[status];
}

export interface StatusView {
  now: Date;
  active?: Connection;
  latest?: Connection;
  features: Array<{ name: string; enabled: boolean }>;
  inFlight?: Operation;
  pendingApproval?: { org: string; requestedBySlack: string; expiresAt: string; status: ApprovalStatus; policy: "self" | "peer" };
  ghesCheckFailed?: string;
  /** Where the GitHub account lives: github.com (the default) or SUBDOMAIN.ghe.com. */
  githubSite?: string;
  /** Features GitHub does not offer where this server connects (GHE.com): shown as 🚫, as `features` says. */
  notOffered?: string[];
}

/**
 * An enterprise connection's organizations; when its installation is gone with none it may move to
 * (or no organization has the app), no token can be minted, and what an owner does.
 */
function installedOn(c: Connection): string {
  const reconnect = `To reconnect, an admin runs \`/ghconnect disable enterprise:${c.org}\`, then \`/ghconnect enable enterprise:${c.org}\`, and an owner of the enterprise installs the app through the link ghconnect gives.`;
  if (!c.installedOn?.length)
    return `⚠️ no organization: the app was uninstalled from every organization of the enterprise, so ghconnect cannot get installation tokens. ${reconnect}`;
  if (!c.installationLostAt) return c.installedOn.join(", ");
  return `${c.installedOn.join(", ")} — ⚠️ the installation ghconnect used (${c.installationId}) was removed ${when(c.installationLostAt)}, and none of these is one ghconnect moves to (only an installation that was there when an owner of the enterprise completed the connection, not suspended), so ghconnect cannot get installation tokens. ${reconnect}`;
}

export function statusMessage(v: StatusView): Message {
  const blocks: Block[] = [];
  const c = v.active;
  if (c) {
    blocks.push({ kind: "header", text: `Connected to ${c.org}` });
    const tokenLeft = c.tokenExpiresAt ? Date.parse(c.tokenExpiresAt) - v.now.getTime() : Number.NaN;
    const token = !c.tokenExpiresAt
      ? "unknown"
      : tokenLeft <= 0
        ? `⚠️ expired at ${when(c.tokenExpiresAt)}${c.tokenRefreshFailedAt ? ` (refresh failing since ${when(c.tokenRefreshFailedAt)})` : ""}`
        : `expires ${when(c.tokenExpiresAt)} (in ${Math.round(tokenLeft / 60_000)} min)`;
    const versionNow = c.ghesVersionNow ?? c.facts.ghesVersion;
    const version = versionNow === c.facts.ghesVersion ? c.facts.ghesVersion : `⚠️ ${c.facts.ghesVersion} at connect, ${versionNow} now`;
    blocks.push({
      kind: "fields",
      fields: [
        ["Account", `${c.org} (${c.accountKind === "enterprise" ? "enterprise account" : "organization"})`],
        ...(c.accountKind === "enterprise" ? ([["Installed on", installedOn(c)]] as Array<[string, string]>) : []),
        ["Since", when(c.connectedAt)],
        [
          "Connected by",
          `<@${c.connectedBy.slack}> · GHES \`${c.connectedBy.ghes}\` · ${v.githubSite ?? "github.com"} \`${c.connectedBy.github}\``,
        ],
        ["App", c.appSettingsUrl ? `<${c.appSettingsUrl}|${c.appSlug}> (id ${c.appId})` : `${c.appSlug} (id ${c.appId})`],
        ["Installation token", token],
        ["GHES", `${c.facts.ghesHostname} · ${version}`],
        [
          "License",
          `${c.facts.licenseCustomerName}${c.facts.licenseExpiresAt ? `, expires ${c.facts.licenseExpiresAt.slice(0, 10)}` : ""}`,
        ],
        ["Last GitHub call", c.lastGithubOkAt ? when(c.lastGithubOkAt) : "none yet"],
      ],
    });
  } else if (v.latest && v.latest.status === "disconnected") {
    const l = v.latest;
    blocks.push({ kind: "header", text: "Not connected" });
    blocks.push({
      kind: "text",
      text: `Disconnected from *${l.org}* at ${l.disconnectedAt ? when(l.disconnectedAt) : "?"} by <@${l.disconnectedBySlack}>.${
        l.registrationDeletedAt
          ? " The app registration is gone from GitHub."
          : ` The app registration \`${l.appSlug}\` still existed on GitHub at the disconnect — GitHub has no API to delete it: delete it at ${l.appSettingsUrl ? `<${l.appSettingsUrl}|its settings page>` : "its settings page"}. (ghconnect deleted the app's key, so it cannot check again.)`
      }`,
    });
  } else {
    blocks.push({ kind: "header", text: "Not connected" });
    blocks.push({ kind: "text", text: "This server is not connected to GitHub. An admin can connect it with `/ghconnect enable ORG`." });
  }
  const on = new Set(v.features.filter((f) => f.enabled).map((f) => f.name));
  blocks.push({
    kind: "text",
    text: `*Features:* ${FEATURES.map((f) => `${v.notOffered?.includes(f.name) ? "🚫" : on.has(f.name) ? "✅" : "▫️"} ${f.name}`).join("  ")}${
      v.notOffered?.length ? ` (🚫 not offered on ${v.githubSite ?? "GHE.com"})` : ""
    }`,
  });
  const pending: string[] = [];
  if (v.inFlight)
    pending.push(
      `⏳ ${v.inFlight.kind === "enable" ? "An" : "A"} ${v.inFlight.kind} of ${v.inFlight.org} by <@${v.inFlight.requestedBySlack}> is ${operationStateWords(v.inFlight)}; expires ${when(v.inFlight.expiresAt)}.`,
    );
  if (v.pendingApproval) {
    const a = v.pendingApproval;
    pending.push(
      `⏳ A disconnect of ${a.org} requested by <@${a.requestedBySlack}> is ${approvalStateWords(a.status, a.policy)}${a.status === "pending" ? `; expires ${when(a.expiresAt)}` : ""}.`,
    );
  }
  if (pending.length) blocks.push({ kind: "text", text: pending.join("\n") });
  // After a disconnect the record keeps its last look at GHES and its last GitHub call: an
  // auditor asks when the server last spoke to GitHub.
  const record = c ?? v.latest;
  const checked = record?.lastCheckedAt ? `last checked ${when(record.lastCheckedAt)}` : "not checked yet";
  const lastContact =
    !c && record?.status === "disconnected" ? ` · last GitHub call ${record.lastGithubOkAt ? when(record.lastGithubOkAt) : "none"}` : "";
  blocks.push({
    kind: "context",
    text: `${v.ghesCheckFailed ? `⚠️ GHES could not be checked just now (${v.ghesCheckFailed}); showing what was last known. ` : ""}${checked}${lastContact} · \`/ghconnect check\` runs every check.`,
  });
  return { text: c ? `Connected to ${c.org}` : "Not connected", blocks };
}
