// `/ghconnect status`: the connection as the database knows it. Fast: it makes no call at all
// while the last look at GHES is under five minutes old, and at most one (GHES's version) after.
import { when } from "./enable-card.js";
import { FEATURES } from "./features.js";
import type { Block, Message } from "./message.js";
import type { Connection, Operation } from "./model.js";

export const STATUS_FRESH_MS = 5 * 60_000;

export interface StatusView {
  now: Date;
  active?: Connection;
  latest?: Connection;
  features: Array<{ name: string; enabled: boolean }>;
  inFlight?: Operation;
  pendingApproval?: { org: string; requestedBySlack: string; expiresAt: string; status: string };
  ghesCheckFailed?: string;
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
        ["Account", `${c.org} (organization)`],
        ["Since", when(c.connectedAt)],
        ["Connected by", `<@${c.connectedBy.slack}> · GHES \`${c.connectedBy.ghes}\` · github.com \`${c.connectedBy.github}\``],
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
  blocks.push({ kind: "text", text: `*Features:* ${FEATURES.map((f) => `${on.has(f.name) ? "✅" : "▫️"} ${f.name}`).join("  ")}` });
  const pending: string[] = [];
  if (v.inFlight)
    pending.push(
      `⏳ An ${v.inFlight.kind} of ${v.inFlight.org} by <@${v.inFlight.requestedBySlack}> is ${v.inFlight.status.replace(/_/g, " ")}; expires ${when(v.inFlight.expiresAt)}.`,
    );
  if (v.pendingApproval)
    pending.push(
      `⏳ A disconnect of ${v.pendingApproval.org} requested by <@${v.pendingApproval.requestedBySlack}> is ${v.pendingApproval.status}; expires ${when(v.pendingApproval.expiresAt)}.`,
    );
  if (pending.length) blocks.push({ kind: "text", text: pending.join("\n") });
  const checked = c?.lastCheckedAt ? `last checked ${when(c.lastCheckedAt)}` : "not checked yet";
  blocks.push({
    kind: "context",
    text: `${v.ghesCheckFailed ? `⚠️ GHES could not be checked just now (${v.ghesCheckFailed}); showing what was last known. ` : ""}${checked} · \`/ghconnect check\` runs every check.`,
  });
  return { text: c ? `Connected to ${c.org}` : "Not connected", blocks };
}
