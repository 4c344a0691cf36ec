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
  {
    command: "status",
    what: "the connection: account, since when, by whom, token expiry, app, features; and GHES's own GitHub Connect as its audit log shows it",
    who: "admin channel",
  },
  {
    command: "check",
    alias: "doctor",
    what: "preflight checks, changing nothing: config, database (and, from the terminal, the encryption key), Slack (and reading the admin channel), GHES, license, proxy, GitHub hosts, clock (5 s each at most), GHES's audit log and its own proxy",
    who: "admins",
  },
  {
    command: "enable ORG",
    alias: "connect ORG",
    what: "connect this server to the GitHub organization ORG (GitHub Connect); a plain name is always an organization",
    who: "admins",
  },
  {
    command: "enable enterprise:SLUG",
    alias: "connect enterprise:SLUG",
    what: "connect to the enterprise account SLUG instead: you register its app by hand (the bot's page lists every field) and an enterprise owner installs it",
    who: "admins",
  },
  {
    command: "disable ORG",
    alias: "disconnect ORG",
    what: "disconnect from ORG (or `enterprise:SLUG`), after a confirmation button",
    who: "admins",
  },
  { command: "features", what: "the GitHub Connect features and their state", who: "anyone" },
  {
    command: "feature enable|disable NAME",
    what: "turn a feature on or off (e.g. unified-search); a GHES-native one (license-sync, dependabot, actions, unified-contributions) goes through an approval card and GHES's settings link",
    who: "admins",
  },
  {
    command: "feature run server-statistics",
    what: "post the server's statistics now (needs a connection, like every GitHub Connect feature)",
    who: "admins",
  },
  {
    command: "search QUERY",
    what: "search issues and pull requests on GHES and in the connected org as yourself (your linked accounts; only you see the results)",
    who: "anyone",
  },
  {
    command: "link / unlink [ghes|github] / whoami",
    what: "prove your GHES login and github.com account by signing in (single-use links, 10 minutes; each opens on a page naming whose link it is, and only its button continues) / revoke and forget them / what is linked",
    who: "anyone",
  },
  {
    command: "audit [N] / audit verify",
    what: "the newest N audit entries, newest first (10 by default, 50 at most) / verify the audit hash chain and compare it with the admin channel's record",
    who: "admins",
  },
  {
    command: "admins / admins add @user ghes-login / admins remove @user",
    what: "the admin roster; an added entry is pending until that person links exactly that GHES login",
    who: "admins",
  },
];
