// What the admin channel's card for an enable operation says at each stage.
import type { Block, Message } from "./message.js";
import type { Operation } from "./model.js";
import type { CheckResult } from "./preflight.js";

export const ADDENDUM_VERSION = "GitHub Connect Addendum, 2024-06";
export const ADDENDUM_URL = "https://github.com/customer-terms/github-connect-addendum";

const ICON: Record<CheckResult["status"], string> = { ok: "✅", warn: "⚠️", fail: "❌", running: "⏳", skipped: "➖" };

export const when = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

export function checksText(results: CheckResult[]): string {
  return results
    .map((r) => `${ICON[r.status]} *${r.name}*: ${r.detail}${r.advice && r.status !== "ok" ? `\n      → ${r.advice}` : ""}`)
    .join("\n");
}

export type CardStage =
  | { kind: "preflight"; checks: CheckResult[] }
  | { kind: "preflight_failed"; checks: CheckResult[] }
  | { kind: "addendum"; checks: CheckResult[] }
  | { kind: "on_github"; acceptedBy: string; acceptedAt: string }
  | { kind: "installing"; appSlug: string; appUrl: string }
  | { kind: "completing" }
  | { kind: "connected"; summary: Array<[string, string]> }
  | { kind: "failed"; reason: string; hint?: string }
  | { kind: "interrupted"; reason: string; hint: string }
  | { kind: "expired" }
  | { kind: "cancelled"; by: string };

/** How the account reads in messages: `acme`, or `the enterprise acme-corp`. */
export function accountName(op: Pick<Operation, "org" | "accountKind">): string {
  return op.accountKind === "enterprise" ? `the enterprise ${op.org}` : op.org;
}

/** What follows `/ghconnect enable` for this operation's account: `acme` or `enterprise:acme-corp`. */
export function enableArgument(op: Pick<Operation, "org" | "accountKind">): string {
  return op.accountKind === "enterprise" ? `enterprise:${op.org}` : op.org;
}

/** `site`: where the GitHub account lives, "github.com" or "SUBDOMAIN.ghe.com". */
export function enableCard(op: Operation, stage: CardStage, site = "github.com"): Message {
  const title = `Enable GitHub Connect → ${accountName(op)}`;
  const blocks: Block[] = [
    { kind: "header", text: title },
    {
      kind: "context",
      text: `Requested by <@${op.requestedBySlack}>${op.requestedByGhes ? ` (GHES \`${op.requestedByGhes}\`)` : ""} at ${when(op.createdAt)} · operation \`${op.id.slice(0, 8)}\``,
    },
  ];
  let text = title;
  switch (stage.kind) {
    case "preflight":
      blocks.push({ kind: "text", text: `*Preflight checks*\n${checksText(stage.checks) || "⏳ starting…"}` });
      text = `${title}: running preflight checks`;
      break;
    case "preflight_failed":
      blocks.push({ kind: "text", text: `*Preflight checks*\n${checksText(stage.checks)}` });
      blocks.push({
        kind: "text",
        text: "❌ *Preflight failed; nothing was changed.* Fix what is marked ❌, then run `/ghconnect enable` again.",
      });
      text = `${title}: preflight failed, nothing was changed`;
      break;
    case "addendum":
      blocks.push({ kind: "text", text: `*Preflight checks*\n${checksText(stage.checks)}` });
      blocks.push({ kind: "divider" });
      blocks.push({
        kind: "text",
        text: `*GitHub Connect Addendum.* Enabling GitHub Connect means agreeing to the <${ADDENDUM_URL}|${ADDENDUM_VERSION}> to the GitHub Enterprise License Agreement. A record of this server (license public key and hash, customer name, hostname, version) is stored on ${site}, and ${
          op.accountKind === "enterprise"
            ? `a GitHub App that an owner of the enterprise *${op.org}* registers by hand is installed on the enterprise's organizations`
            : `a GitHub App owned by *${op.org}* is created and installed`
        }. ${site} users cannot change this server.`,
      });
      blocks.push({
        kind: "actions",
        buttons: [
          { action: "enable.accept", label: "Accept addendum and continue", value: op.id, style: "primary" },
          { action: "enable.cancel", label: "Cancel", value: op.id },
        ],
      });
      blocks.push({ kind: "context", text: `Only <@${op.requestedBySlack}> can accept. This request expires at ${when(op.expiresAt)}.` });
      text = `${title}: preflight passed; waiting for <@${op.requestedBySlack}> to accept the addendum`;
      break;
    case "on_github":
      blocks.push({
        kind: "text",
        text: `✅ Addendum (${ADDENDUM_VERSION}) accepted by <@${stage.acceptedBy}> at ${when(stage.acceptedAt)}.\n⏳ Waiting for <@${op.requestedBySlack}> to ${op.accountKind === "enterprise" ? `register the GitHub App under the enterprise ${op.org} and give ghconnect its credentials` : `create the GitHub App on ${site}`} (the link was sent to them privately).`,
      });
      blocks.push({ kind: "actions", buttons: [{ action: "enable.cancel", label: "Cancel", value: op.id }] });
      blocks.push({ kind: "context", text: `Expires at ${when(op.expiresAt)}.` });
      text = `${title}: waiting for the GitHub App to be created`;
      break;
    case "installing":
      blocks.push({
        kind: "text",
        text: `✅ GitHub App <${stage.appUrl}|${stage.appSlug}> ${op.accountKind === "enterprise" ? "registered" : "created"} under *${accountName(op)}*.\n⏳ Waiting for it to be installed and authorized on ${site}.`,
      });
      blocks.push({ kind: "actions", buttons: [{ action: "enable.cancel", label: "Cancel", value: op.id }] });
      blocks.push({ kind: "context", text: `Expires at ${when(op.expiresAt)}.` });
      text = `${title}: waiting for the installation`;
      break;
    case "completing":
      // No Cancel while the completion holds its lease: it may be writing the connection.
      blocks.push({
        kind: "text",
        text: `⏳ Back from GitHub: verifying the installer and the installation, then connecting. If this has not finished by ${when(op.expiresAt)}, the operation is ended and this card says so.`,
      });
      text = `${title}: completing`;
      break;
    case "connected":
      blocks[0] = { kind: "header", text: `Connected ${op.org}` };
      blocks.push({ kind: "fields", fields: stage.summary });
      blocks.push({ kind: "context", text: "Features are off until an admin turns them on: `/ghconnect features`." });
      text = `Connected ${op.org}`;
      break;
    case "failed":
      blocks.push({ kind: "text", text: `❌ *Enable failed.* ${stage.reason}` });
      if (stage.hint) blocks.push({ kind: "context", text: stage.hint });
      text = `${title}: failed`;
      break;
    case "interrupted":
      blocks.push({ kind: "text", text: `⚠️ *Interrupted while completing.* ${stage.reason}` });
      blocks.push({ kind: "context", text: stage.hint });
      text = `${title}: interrupted, nothing was stored`;
      break;
    case "expired":
      blocks.push({
        kind: "text",
        text: `⌛ *Expired* at ${when(op.expiresAt)} before it finished. Nothing is connected and no credentials were kept. Run \`/ghconnect enable ${enableArgument(op)}\` to start again.`,
      });
      text = `${title}: expired`;
      break;
    case "cancelled":
      blocks.push({ kind: "text", text: `🚫 *Cancelled* by <@${stage.by}>. Nothing is connected and no credentials were kept.` });
      text = `${title}: cancelled`;
      break;
  }
  return { text, blocks };
}
