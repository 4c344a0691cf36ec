// What the admin channel's card for a disconnect request says at each stage.

import { when } from "./enable-card.js";
import type { Block, Message } from "./message.js";
import type { Approval, Connection } from "./model.js";

/** What the card, its thread and the audit say when a sweep finds a disconnect whose bot died. */
export const INTERRUPTED_REASON =
  "The bot executing this disconnect stopped (restart or crash) before it finished; nothing was deleted locally.";

export type DisableStage =
  | { kind: "pending"; features: string[] }
  | { kind: "executing"; by: string }
  | { kind: "done"; by: string; registrationExists: boolean | undefined; uninstalled: boolean; forced?: { error: string } }
  | { kind: "github_failed"; error: string }
  /** A sweep found the request executing with no heartbeat: its bot died mid-way. */
  | { kind: "interrupted" }
  | { kind: "cancelled"; by: string }
  | { kind: "expired" }
  | { kind: "stale"; reason: string };

const policyText = (a: Approval) =>
  a.policy === "peer" ? "a second admin (not the requester) must approve" : "any admin may approve, the requester included";

export function disableCard(
  a: Approval,
  c: Pick<Connection, "org" | "appSlug" | "appSettingsUrl"> & Partial<Pick<Connection, "accountKind" | "installedOn">>,
  stage: DisableStage,
): Message {
  const title = `Disconnect ${a.org}?`;
  // An enterprise's app is installed on its organizations, not on the enterprise; it has no webhook secret.
  const enterprise = c.accountKind === "enterprise";
  const orgs = c.installedOn?.length ? c.installedOn.map((o) => `*${o}*`).join(", ") : undefined;
  const installedWhere = enterprise
    ? orgs
      ? `the organization${(c.installedOn?.length ?? 0) > 1 ? "s" : ""} ${orgs} of the enterprise *${a.org}*`
      : `the organizations of the enterprise *${a.org}*`
    : `*${a.org}*`;
  const stored = enterprise ? "the private key, client secret and tokens" : "the private key, client secret, webhook secret and tokens";
  const registration = c.appSettingsUrl ? `<${c.appSettingsUrl}|${c.appSlug ?? "the app"}>` : (c.appSlug ?? "the app");
  const blocks: Block[] = [
    { kind: "header", text: stage.kind === "done" ? `Disconnected ${a.org}` : title },
    {
      kind: "context",
      text: `Requested by <@${a.requestedBySlack}> at ${when(a.requestedAt)} · ${policyText(a)} · request \`${a.id.slice(0, 8)}\``,
    },
  ];
  let text = title;
  switch (stage.kind) {
    case "pending": {
      blocks.push({
        kind: "text",
        text: [
          "*Approving will:*",
          `• revoke the installation token on GitHub;`,
          `• uninstall the app ${registration} from ${installedWhere};`,
          `• delete ${stored} from this server — and so from every replica and every future backup;`,
          `• stop ${stage.features.length ? stage.features.map((f) => `\`${f}\``).join(", ") : "the GitHub Connect features (none is on now)"}.`,
          `GitHub has no API to delete the app *registration*: after disconnecting, delete it by hand at ${registration}.`,
        ].join("\n"),
      });
      blocks.push({
        kind: "actions",
        buttons: [
          {
            action: "disable.approve",
            label: "Disconnect",
            value: a.id,
            style: "danger",
            confirm: {
              title: `Disconnect ${a.org}?`,
              text: "The token is revoked, the app uninstalled and every credential deleted from this server. This cannot be undone.",
              confirm: "Disconnect",
              deny: "Keep connected",
            },
          },
          { action: "disable.cancel", label: "Cancel", value: a.id },
        ],
      });
      blocks.push({ kind: "context", text: `Expires at ${when(a.expiresAt)} if nobody approves.` });
      text = `Disconnect ${a.org}? Requested by <@${a.requestedBySlack}>; expires at ${when(a.expiresAt)}`;
      break;
    }
    case "executing":
      blocks.push({
        kind: "text",
        text: `✅ Approved by <@${stage.by}> at ${when(a.decidedAt ?? a.requestedAt)}.\n⏳ Revoking the token, uninstalling the app, deleting the credentials…`,
      });
      text = `Disconnecting ${a.org}…`;
      break;
    case "done":
      blocks.push({
        kind: "text",
        text: [
          `✅ Disconnected *${a.org}* — approved by <@${stage.by}> at ${when(a.decidedAt ?? a.requestedAt)}.`,
          stage.forced?.error === INTERRUPTED_REASON
            ? `⚠️ Deleted without finishing on GitHub: the bot executing the first attempt stopped before it finished, so the token may not be revoked and the app may still be installed on ${a.org}: check and uninstall it on GitHub. Every credential was deleted from this server.`
            : stage.forced
              ? `⚠️ GitHub could not be reached (${stage.forced.error}), so the token was not revoked and the app may still be installed on ${a.org}: uninstall it on GitHub. Every credential was deleted from this server.`
              : `Installation token revoked; app ${stage.uninstalled ? "uninstalled" : "was already uninstalled"}; every credential deleted from this server.`,
          stage.registrationExists === false
            ? "The app registration is already gone from GitHub."
            : `*The app registration still exists on GitHub* — GitHub has no API to delete it. Delete it at ${registration}.`,
        ].join("\n"),
      });
      text = `Disconnected ${a.org}`;
      break;
    case "github_failed":
      blocks.push({
        kind: "text",
        text: `❌ *GitHub failed while disconnecting:* ${stage.error}\nNothing was deleted yet. Retry, or delete the local credentials anyway (the app then stays installed on ${a.org} until someone uninstalls it on GitHub).`,
      });
      blocks.push(afterFailureButtons(a, uninstallFrom(a, c)));
      text = `Disconnecting ${a.org} failed at GitHub`;
      break;
    case "interrupted":
      blocks.push({
        kind: "text",
        text: `⚠️ *The bot executing this disconnect stopped* (restart or crash) before it finished; nothing was deleted locally. GitHub may already have revoked the token or uninstalled the app. Retry, or delete the local credentials anyway (the app then may stay installed on ${a.org} until someone uninstalls it on GitHub).`,
      });
      blocks.push(afterFailureButtons(a, uninstallFrom(a, c)));
      text = `Disconnecting ${a.org} was interrupted`;
      break;
    case "cancelled":
      blocks.push({ kind: "text", text: `🚫 *Cancelled* by <@${stage.by}>. Nothing was changed; ${a.org} stays connected.` });
      text = `Disconnect of ${a.org} cancelled`;
      break;
    case "expired":
      blocks.push({
        kind: "text",
        text: `⌛ *Expired* at ${when(a.expiresAt)} without approval. Nothing was changed; ${a.org} stays connected.`,
      });
      text = `Disconnect of ${a.org} expired`;
      break;
    case "stale":
      blocks.push({ kind: "text", text: `🚫 *No longer valid:* ${stage.reason} Nothing was changed by this request.` });
      text = `Disconnect request for ${a.org} no longer valid`;
      break;
  }
  return { text, blocks };
}

/** Where the app is installed, in plain words (a dialog's text): an enterprise's app is on its organizations. */
function uninstallFrom(a: Approval, c: Partial<Pick<Connection, "accountKind" | "installedOn">>): string {
  if (c.accountKind !== "enterprise") return a.org;
  const orgs = c.installedOn ?? [];
  if (!orgs.length) return `the organizations of the enterprise ${a.org}`;
  return `the organization${orgs.length > 1 ? "s" : ""} ${orgs.join(", ")} of the enterprise ${a.org}`;
}

/** Retry, or delete the local credentials anyway: what admins can do after a disconnect stopped half-way. */
function afterFailureButtons(a: Approval, from: string): Block {
  return {
    kind: "actions",
    buttons: [
      { action: "disable.retry", label: "Retry", value: a.id, style: "primary" },
      {
        action: "disable.force",
        label: "Delete local credentials anyway",
        value: a.id,
        style: "danger",
        confirm: {
          title: "Delete local credentials?",
          text: `Every credential is deleted from this server now. GitHub was not told: uninstall the app from ${from} on GitHub yourself.`,
          confirm: "Delete them",
          deny: "Keep them",
        },
      },
    ],
  };
}
