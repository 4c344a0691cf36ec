// The GitHub Connect features, as GitHub documents them. Two are provided by ghconnect itself;
// the others are GHES settings that GitHub exposes no API for, so the bot records the decision
// and points at the exact settings page.

export type FeatureName = "license-sync" | "dependabot" | "actions" | "server-statistics" | "unified-search" | "unified-contributions";

export interface FeatureInfo {
  name: FeatureName;
  title: string;
  what: string;
  /** true when ghconnect itself provides the feature (it really works when on). */
  providedByBot: boolean;
}

/**
 * GHES's own GitHub Connect page (Enterprise settings → GitHub Connect), where an admin turns the
 * native features on and off; `<enterprise>` is the enterprise account's slug on the server.
 */
export const GHES_CONNECT_SETTINGS_PATH = "/enterprises/<enterprise>/settings/dotcom_connection";

/** The one rule for when a feature may be changed or run, as `features` and the README state it. */
export const FEATURE_CONNECTION_RULE =
  "Every feature here is a GitHub Connect feature: turning one on, or running server statistics, needs a connection to GitHub; turning one off never does.";

export const FEATURES: readonly FeatureInfo[] = [
  {
    name: "unified-search",
    title: "Unified search",
    what: "search issues and pull requests on this server and in the connected organization at once",
    providedByBot: true,
  },
  {
    name: "server-statistics",
    title: "Server statistics",
    what: "a daily post of this server's usage statistics to the admin channel, kept for trends",
    providedByBot: true,
  },
  {
    name: "license-sync",
    title: "License sync",
    what: "share license usage between the server and GitHub Enterprise Cloud",
    providedByBot: false,
  },
  {
    name: "dependabot",
    title: "Dependabot alerts and updates",
    what: "Dependabot alerts and updates from the GitHub Advisory Database",
    providedByBot: false,
  },
  {
    name: "actions",
    title: "Actions from GitHub.com",
    what: "use actions published on GitHub.com in workflows on this server",
    providedByBot: false,
  },
  {
    name: "unified-contributions",
    title: "Unified contributions",
    what: "count contributions made on this server on users' GitHub.com profiles",
    providedByBot: false,
  },
];

export function findFeature(name: string): FeatureInfo | undefined {
  return FEATURES.find((f) => f.name === name.toLowerCase());
}
