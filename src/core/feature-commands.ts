// `/ghconnect features` (what each GitHub Connect feature does, its state, how it is turned on)
// and `/ghconnect feature enable|disable|run NAME`. A native feature's change is governed by its
// card (native/governed.ts); a feature ghconnect provides is switched here, authorized and audited.
import { authorizeAdmin } from "./authorize.js";
import { when } from "./enable-card.js";
import { FeatureUnavailable, NotConnected } from "./errors.js";
import {
  FEATURE_CONNECTION_RULE,
  FEATURES,
  type FeatureInfo,
  type FeatureName,
  findFeature,
  GHES_CONNECT_SETTINGS_PATH,
} from "./features.js";
import { githubSiteName, unavailableOnTarget } from "./github-hosts.js";
import { type Message, simpleMessage } from "./message.js";
import type { FlowStore, GhesGateway } from "./ports.js";
import type { ServerStatistics } from "./server-statistics.js";

export type FeatureAction = "enable" | "disable" | "run";

export interface FeatureCommandsDeps {
  store: FlowStore;
  ghes: GhesGateway;
  statistics: Pick<ServerStatistics, "post">;
  /** Where the GitHub account lives (github.com or SUBDOMAIN.ghe.com): GHE.com lacks some features. */
  githubUrl: string;
  ghesUrl: string;
  /** GHES's enterprise slug (GHES_ENTERPRISE or discovered), for the settings link; undefined when unknown. */
  enterprise?(): Promise<string | undefined>;
  /** A native feature's change, governed (card, approval, settings link, proof); see native/governed.ts. */
  governNative?(action: "enable" | "disable", name: FeatureName, slackUserId: string): Promise<Message>;
}

export class FeatureCommands {
  constructor(private readonly deps: FeatureCommandsDeps) {}

  /** `features`: what each does, its state, and how it is turned on. */
  async list(slackUserId: string): Promise<Message> {
    const states = new Map((await this.deps.store.features.all()).map((f) => [f.name, f]));
    const settingsPage = await this.ghesConnectPage();
    const lines = FEATURES.map((f) => {
      const unavailable = unavailableOnTarget(f.name, this.deps.githubUrl);
      if (unavailable) return `*${f.title}* \`${f.name}\` — 🚫 not offered on GHE.com (${unavailable})\n    ${f.what}.`;
      const s = states.get(f.name);
      const state = s?.enabled ? `✅ on (by <@${s.changedBySlack}>, ${when(s.changedAt)})` : "▫️ off";
      const how = f.providedByBot
        ? `provided by ghconnect: \`/ghconnect feature ${s?.enabled ? "disable" : "enable"} ${f.name}\``
        : `a GHES setting GitHub offers no API for: \`/ghconnect feature ${s?.enabled ? "disable" : "enable"} ${f.name}\` asks for approval, then links to GHES's settings (${settingsPage}) and records it once proven`;
      return `*${f.title}* \`${f.name}\` — ${state}\n    ${f.what}; ${how}.`;
    });
    await this.deps.store.appendAudit({ actor: { slack: slackUserId }, action: "command.features", outcome: "ok" });
    return {
      text: "GitHub Connect features",
      blocks: [
        { kind: "header", text: "GitHub Connect features" },
        { kind: "text", text: lines.join("\n") },
        { kind: "context", text: FEATURE_CONNECTION_RULE },
      ],
    };
  }

  /** `feature enable|disable NAME`, `feature run server-statistics`. */
  async change(action: FeatureAction, name: FeatureName, slackUserId: string): Promise<Message> {
    const info = findFeature(name)!;
    const admin = await authorizeAdmin(
      this.deps.store.admins,
      this.deps.ghes,
      slackUserId,
      `${action === "run" ? "run" : "change"} ${name}`,
    );
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    // GitHub's own list of what GHE.com lacks comes first: connecting would not make it available.
    if (action !== "disable") this.refuseUnavailable(info, action, admin.ghesLogin);
    // A native feature depends on GHES's own connection, which its card checks, not on ghconnect's.
    if (action !== "run" && !info.providedByBot && this.deps.governNative) return this.deps.governNative(action, name, slackUserId);
    if (action !== "disable") await this.requireConnection(info, action, admin.ghesLogin);
    if (action === "run") return this.deps.statistics.post(actor.slack);
    const enabled = action === "enable";
    if (!(await this.record(info, enabled, actor))) {
      return simpleMessage(`${info.title} is already ${enabled ? "on" : "off"}. Nothing was changed.`);
    }
    return simpleMessage(`${enabled ? "✅ Turned on" : "▫️ Turned off"} ${info.title}. ${this.changedNote(info, enabled)}`);
  }

  private refuseUnavailable(info: FeatureInfo, action: "enable" | "run", ghesLogin: string): void {
    const unavailable = unavailableOnTarget(info.name, this.deps.githubUrl);
    if (!unavailable) return;
    throw new FeatureUnavailable(
      `${info.title} cannot be ${action === "run" ? "run" : "turned on"}: ${unavailable} (this server connects to ${githubSiteName(this.deps.githubUrl)}).`,
      "See `/ghconnect features` for the features GitHub offers there.",
      { ghes: ghesLogin },
    );
  }

  /**
   * One rule for every GitHub Connect feature, as GitHub's own: turning one on, or running one,
   * needs the connection (GitHub's Server Statistics requires GitHub Connect too); turning one
   * off never does.
   */
  private async requireConnection(info: FeatureInfo, action: "enable" | "run", ghesLogin: string): Promise<void> {
    if (await this.deps.store.connections.active()) return;
    throw new NotConnected(
      `${info.title} is a GitHub Connect feature and needs a connection to GitHub; this server is not connected.`,
      `Connect first with \`/ghconnect enable ORG\`, then \`/ghconnect feature ${action} ${info.name}\`.`,
      { ghes: ghesLogin },
    );
  }

  /** Stores the feature's new state and audits it in one transaction; false when it already was. */
  private record(info: FeatureInfo, enabled: boolean, actor: { slack: string; ghes: string }): Promise<boolean> {
    return this.deps.store.transaction(async (tx) => {
      if (!(await tx.features.set(info.name, enabled, actor.slack))) return false;
      await tx.audit.append({
        actor,
        action: enabled ? "feature.enabled" : "feature.disabled",
        target: info.name,
        outcome: "ok",
        details: { native: !info.providedByBot },
      });
      return true;
    });
  }

  /** What turning the feature on or off means for the admin, after the change. */
  private changedNote(info: FeatureInfo, enabled: boolean): string {
    if (!info.providedByBot)
      return `GitHub has no API for this setting: ${enabled ? "turn it on" : "turn it off"} in GHES under Enterprise settings → GitHub Connect (${this.ghesConnectPage()}). ghconnect recorded the decision.`;
    if (!enabled) return "ghconnect stopped providing it.";
    return info.name === "unified-search"
      ? "Anyone can now run `/ghconnect search QUERY`."
      : "ghconnect posts the server's statistics here daily; `/ghconnect feature run server-statistics` posts them now.";
  }

  /** GHES's GitHub Connect settings page, where the native features are switched. */
  private async ghesConnectPage(): Promise<string> {
    const slug = await this.deps.enterprise?.().catch(() => undefined);
    return `${this.deps.ghesUrl.replace(/\/+$/, "")}${GHES_CONNECT_SETTINGS_PATH.replace("<enterprise>", slug ?? "SLUG")}`;
  }
}
