// Who may change things: a Slack user in the admin roster, bound to a GHES login that person
// proved by signing in (or trusted configuration, GHCONNECT_ADMINS), whose GHES login is a site
// admin right now (checked live, at the moment of each state-changing action, never cached).
import { NotAuthorized } from "./errors.js";
import type { GhesGateway } from "./ports.js";

export interface AdminIdentity {
  slackUserId: string;
  ghesLogin: string;
}

export interface RosterEntry {
  slackUserId: string;
  ghesLogin: string;
  addedBy: string;
  provenGhesLogin: string | null;
}

export interface RosterLookup {
  find(slackUserId: string): Promise<RosterEntry | undefined>;
}

/** Entries from GHCONNECT_ADMINS are trusted configuration; every other one must be proven. */
export const TRUSTED_SOURCE = "GHCONNECT_ADMINS";

/** An entry grants something only once its Slack user proved exactly its GHES login. */
export function isProven(entry: RosterEntry): boolean {
  return entry.addedBy === TRUSTED_SOURCE || entry.provenGhesLogin?.toLowerCase() === entry.ghesLogin.toLowerCase();
}

/** The refusal for someone who is not (or no longer) in the roster. */
export function notInRoster(doing: string): NotAuthorized {
  return new NotAuthorized(
    `You are not in ghconnect's admin roster, so you cannot ${doing}.`,
    "An admin can add you with `/ghconnect admins add @you your-ghes-login`.",
  );
}

/** Resolves the user as an admin, or throws NotAuthorized with the reason that applies. */
export async function authorizeAdmin(roster: RosterLookup, ghes: GhesGateway, slackUserId: string, doing: string): Promise<AdminIdentity> {
  const entry = await roster.find(slackUserId);
  if (!entry) throw notInRoster(doing);
  if (!isProven(entry)) {
    throw new NotAuthorized(
      entry.provenGhesLogin
        ? `Your roster entry is for the GHES login \`${entry.ghesLogin}\`, but you signed in to GHES as \`${entry.provenGhesLogin}\`; the entry is pending, so you cannot ${doing}.`
        : `Your roster entry for the GHES login \`${entry.ghesLogin}\` is pending until you prove that login, so you cannot ${doing}.`,
      `Run \`/ghconnect link\` and sign in to GHES as \`${entry.ghesLogin}\`.`,
      { ghes: entry.ghesLogin },
    );
  }
  const status = await ghes.user(entry.ghesLogin);
  if (!status.exists) {
    throw new NotAuthorized(
      `Your roster entry links you to the GHES login \`${entry.ghesLogin}\`, which does not exist on ${new URL(ghes.url).host}, so you cannot ${doing}.`,
      "An admin can fix your entry with `/ghconnect admins add @you your-ghes-login`.",
      { ghes: entry.ghesLogin },
    );
  }
  if (!status.siteAdmin) {
    throw new NotAuthorized(
      `Your GHES account \`${entry.ghesLogin}\` is not a site administrator now, so you cannot ${doing}.`,
      "Site admin rights are checked live on every action; ask a site admin to promote you on GHES.",
      { ghes: entry.ghesLogin },
    );
  }
  return { slackUserId, ghesLogin: entry.ghesLogin };
}

/**
 * The GHES logins a peer approval's requester counts as (lower case): the one kept when they
 * asked, and the one their roster entry names now, if any.
 */
export async function requesterLogins(
  store: { admins: { find(slackUserId: string): Promise<{ ghesLogin: string } | undefined> } },
  request: { requestedBySlack: string; requestedByGhes: string | null },
): Promise<string[]> {
  const now = (await store.admins.find(request.requestedBySlack))?.ghesLogin;
  return [request.requestedByGhes, now].filter((l): l is string => typeof l === "string").map((l) => l.toLowerCase());
}
