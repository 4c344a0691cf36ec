// The usage text of `/ghconnect help`: one line per command, who may run it.
export interface UsageLine {
  command: string;
  /** Another name for the same command, shown after it (outside its code span). */
  alias?: string;
  what: string;
  who: "anyone" | "admins" | "admin channel";
}

export const USAGE: readonly UsageLine[] = [
  { command: "help", what: "this help", who: "anyone" },
  { command: "status", what: "the connection: account, since when, by whom, token expiry, app, features", who: "admin channel" },
  {
    command: "check",
    alias: "doctor",
    what: "preflight checks, changing nothing: config, database (and, from the terminal, the encryption key), Slack (and reading the admin channel), GHES, license, proxy, GitHub hosts, clock (5 s each at most)",
    who: "admins",
  },
  {
    command: "enable ORG",
    alias: "connect ORG",
    what: "connect this server to the GitHub organization ORG (GitHub Connect)",
    who: "admins",
  },
  { command: "disable ORG", alias: "disconnect ORG", what: "disconnect from ORG, after a confirmation button", who: "admins" },
  { command: "features", what: "the GitHub Connect features and their state", who: "anyone" },
  {
    command: "feature enable|disable NAME",
    what: "turn a feature on or off (e.g. unified-search); turning one on needs a connection",
    who: "admins",
  },
  {
    command: "feature run server-statistics",
    what: "post the server's statistics now (needs a connection, like every GitHub Connect feature)",
    who: "admins",
  },
  { command: "search QUERY", what: "search issues and pull requests here and in the connected org", who: "anyone" },
  {
    command: "audit [N] / audit verify",
    what: "the newest N audit entries, newest first (10 by default, 50 at most) / verify the audit hash chain and compare it with the admin channel's record",
    who: "admins",
  },
  { command: "admins / admins add @user ghes-login / admins remove @user", what: "the admin roster", who: "admins" },
];
