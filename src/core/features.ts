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
  /** Path on the GHES instance where an admin turns the native setting on. */
  settingsPath: string;
}

export const FEATURES: readonly FeatureInfo[] = [
  {
    name: "unified-search",
    title: "Unified search",
    what: "search issues and pull requests on this server and in the connected organization at once",
    providedByBot: true,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
  {
    name: "server-statistics",
    title: "Server statistics",
    what: "a daily post of this server's usage statistics to the admin channel, kept for trends",
    providedByBot: true,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
  {
    name: "license-sync",
    title: "License sync",
    what: "share license usage between the server and GitHub Enterprise Cloud",
    providedByBot: false,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
  {
    name: "dependabot",
    title: "Dependabot alerts and updates",
    what: "Dependabot alerts and updates from the GitHub Advisory Database",
    providedByBot: false,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
  {
    name: "actions",
    title: "Actions from GitHub.com",
    what: "use actions published on GitHub.com in workflows on this server",
    providedByBot: false,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
  {
    name: "unified-contributions",
    title: "Unified contributions",
    what: "count contributions made on this server on users' GitHub.com profiles",
    providedByBot: false,
    settingsPath: "/enterprises/{enterprise}/settings/github_connect",
  },
];

export function findFeature(name: string): FeatureInfo | undefined {
  return FEATURES.find((f) => f.name === name.toLowerCase());
}
