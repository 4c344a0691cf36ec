// The usage text of `/ghconnect help`: one line per command, who may run it.
export interface UsageLine {
  command: string;
  what: string;
  who: "anyone" | "admins" | "admin channel";
}

export const USAGE: readonly UsageLine[] = [
  { command: "help", what: "this help", who: "anyone" },
  { command: "status", what: "the connection: account, since when, by whom, token expiry, app, features", who: "admin channel" },
  {
    command: "check (or doctor)",
    what: "preflight checks, changing nothing: config, database, Slack token, GHES, license, proxy, GitHub hosts, clock (5 s each at most)",
    who: "admins",
  },
  { command: "enable ORG (or connect ORG)", what: "connect this server to the GitHub organization ORG (GitHub Connect)", who: "admins" },
  { command: "disable ORG (or disconnect ORG)", what: "disconnect from ORG, after a confirmation button", who: "admins" },
  { command: "features", what: "the GitHub Connect features and their state", who: "anyone" },
  { command: "feature enable|disable NAME", what: "turn a feature on or off (e.g. unified-search)", who: "admins" },
  { command: "search QUERY", what: "search issues and pull requests here and in the connected org", who: "anyone" },
  { command: "audit [N] / audit verify", what: "the last N audit entries / verify the audit hash chain", who: "admins" },
  { command: "admins / admins add @user ghes-login / admins remove @user", what: "the admin roster", who: "admins" },
];
