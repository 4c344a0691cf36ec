// The card of a governed change of a native GitHub Connect feature: what turns on, what data
// starts flowing (GitHub's own table, "About GitHub Connect" → Data transmitted by individual
// features: https://docs.github.com/en/admin/configuring-settings/configuring-github-connect/about-github-connect#data-transmission),
// its prerequisites checked live, the approval, and then how it ended.
import { when } from "../enable-card.js";
import { type FeatureName, findFeature } from "../features.js";
import type { Block, Button, Message } from "../message.js";
import type { CheckResult } from "../preflight.js";
import type { NativeRequest } from "./governed.js";

/** What each native feature sends or receives, in GitHub's words (see the link above). */
export const FEATURE_DATA: Partial<Record<FeatureName, string>> = {
  "license-sync":
    "each GHES user's user ID and email addresses, and whether the user consumes a GitHub Advanced Security, Code Security or Secret Protection license — from GHES to GitHub Enterprise Cloud",
  dependabot:
    "vulnerability alerts, and dependencies with the metadata of each dependency's repository — from GitHub.com to GHES (private repositories only where Dependabot is authorized)",
  actions: "the names of actions and the action files (YAML from GitHub Marketplace) — between GitHub.com and GHES",
  "unified-contributions": "contribution counts — from GHES to GitHub Enterprise Cloud",
};

export const DATA_SOURCE = "https://docs.github.com/en/admin/configuring-settings/configuring-github-connect/about-github-connect";

const mark = (r: CheckResult) => (r.status === "ok" ? "✅" : r.status === "fail" ? "❌" : "⚠️");

export type FeatureCardStage =
  | { kind: "pending"; checks: CheckResult[] }
  | { kind: "awaiting"; settingsUrl: string; expectedEvent: string | null }
  | { kind: "verified"; eventId: string; eventAt: string; eventAction: string }
  | { kind: "confirmed"; by: string; at: string }
  | { kind: "not_seen"; expectedEvent: string | null }
  | { kind: "cancelled"; by: string }
  | { kind: "expired" };

export function featureCard(r: NativeRequest, stage: FeatureCardStage): Message {
  const info = findFeature(r.feature);
  const title = info?.title ?? r.feature;
  const verb = r.action === "enable" ? "Turn on" : "Turn off";
  const blocks: Block[] = [{ kind: "header", text: `${verb} ${title} in GHES (native GitHub Connect)` }];
  blocks.push({
    kind: "text",
    text:
      r.action === "enable"
        ? `*What turns on:* ${info?.what ?? r.feature}.\n*Data that starts flowing:* ${FEATURE_DATA[r.feature] ?? "see GitHub's documentation"} (<${DATA_SOURCE}|GitHub's documentation>).`
        : `*What turns off:* ${info?.what ?? r.feature}.\n*Data that stops flowing:* ${FEATURE_DATA[r.feature] ?? "see GitHub's documentation"}.`,
  });
  const requested = `Requested by <@${r.requestedBySlack}> at ${when(r.requestedAt)} · approval: ${r.policy === "peer" ? "another admin (peer)" : "any admin (self)"}`;
  switch (stage.kind) {
    case "pending": {
      blocks.push({
        kind: "text",
        text: `*Prerequisites (checked now):*\n${stage.checks.map((c) => `${mark(c)} ${c.name}: ${c.detail}`).join("\n")}`,
      });
      blocks.push({ kind: "context", text: `${requested} · expires ${when(r.expiresAt)}` });
      const buttons: Button[] = [
        {
          action: "native-feature.approve",
          label: "Approve",
          value: r.id,
          style: "primary",
          confirm: {
            title: `${verb} ${title}?`,
            text: "You approve the change; the requester then makes it in GHES's settings.",
            confirm: "Approve",
            deny: "Back",
          },
        },
        { action: "native-feature.cancel", label: "Cancel", value: r.id },
      ];
      blocks.push({ kind: "actions", buttons });
      break;
    }
    case "awaiting": {
      blocks.push({
        kind: "text",
        text: `✅ Approved by <@${r.decidedBySlack}> at ${r.decidedAt ? when(r.decidedAt) : "?"}. <@${r.requestedBySlack}>: ${r.action === "enable" ? "turn it on" : "turn it off"} at ${stage.settingsUrl}`,
      });
      blocks.push({
        kind: "text",
        text: stage.expectedEvent
          ? `⏳ Waiting for GHES's audit event \`${stage.expectedEvent}\` until ${when(r.expiresAt)}.`
          : `⏳ GitHub publishes no audit event for this setting, so ghconnect cannot see it change: <@${r.requestedBySlack}>, press *Confirm done* once GHES shows it. Waits until ${when(r.expiresAt)}.`,
      });
      blocks.push({
        kind: "actions",
        buttons: [
          { action: "link", label: "Open GHES's settings", url: stage.settingsUrl },
          ...(stage.expectedEvent
            ? []
            : [{ action: "native-feature.confirm", label: "Confirm done", value: r.id, style: "primary" as const }]),
        ],
      });
      blocks.push({ kind: "context", text: requested });
      break;
    }
    case "verified":
      blocks.push({ kind: "text", text: `✅ Verified at ${when(stage.eventAt)} (event \`${stage.eventAction}\` ${stage.eventId}).` });
      blocks.push({ kind: "context", text: requested });
      break;
    case "confirmed":
      blocks.push({
        kind: "text",
        text: `✅ Confirmed done by <@${stage.by}> at ${when(stage.at)} — confirmed by a person: GitHub publishes no audit event for this setting.`,
      });
      blocks.push({ kind: "context", text: requested });
      break;
    case "not_seen":
      blocks.push({
        kind: "text",
        text: stage.expectedEvent
          ? `⌛ \`${stage.expectedEvent}\` not seen within 30 min: nothing recorded as done.`
          : "⌛ Not confirmed within 30 min: nothing recorded as done.",
      });
      blocks.push({ kind: "context", text: requested });
      break;
    case "cancelled":
      blocks.push({ kind: "text", text: `🚫 Cancelled by <@${stage.by}>. Nothing was changed.` });
      break;
    case "expired":
      blocks.push({ kind: "text", text: "⌛ Expired without approval. Nothing was changed." });
      break;
  }
  return { text: `${verb} ${title} in GHES`, blocks };
}
