// Who may change things: a Slack user in the admin roster, bound to a GHES login that person
// proved by signing in (or trusted configuration, GHCONNECT_ADMINS), whose GHES login is a site
// admin right now (checked live, at the moment of each state-changing action, never cached).
import { NotAuthorized } from "./errors.js";
import type { GhesGateway } from "./ports.js";

export interface AdminIdentity {
  slackUserId: string;
  ghesLogin: string;
  /** The GHES user id this Slack user proved by signing in; null without a GHES link or on one made before ids were kept. */
  ghesId: number | null;
}

export interface RosterEntry {
  slackUserId: string;
  ghesLogin: string;
  addedBy: string;
  provenGhesLogin: string | null;
  /** The user id of the GHES account proven with provenGhesLogin (it stays when the login is renamed), if known. */
  provenGhesId: number | null;
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
  return { slackUserId, ghesLogin: entry.ghesLogin, ghesId: entry.provenGhesId };
}

/** Who asked for a peer-approved change, as the request keeps it. */
export interface PeerRequest {
  requestedBySlack: string;
  requestedByGhes: string | null;
  requestedByGhesId: number | null;
}

/**
 * Four eyes are two people, not two Slack accounts: is the clicker the requester's GHES account?
 * The requester counts as the account kept on the request when they asked and the one their roster
 * entry is proven by now. GHES user ids are compared where both sides have one, since a site admin
 * can rename a login and a renamed login is a new string; logins (case-insensitive) are compared
 * always, which is all there is for requests and links from before ids were kept.
 */
export async function isRequester(store: { admins: RosterLookup }, request: PeerRequest, clicker: AdminIdentity): Promise<boolean> {
  const now = await store.admins.find(request.requestedBySlack);
  const ids = [request.requestedByGhesId, now?.provenGhesId];
  if (clicker.ghesId !== null && ids.includes(clicker.ghesId)) return true;
  const logins = [request.requestedByGhes, now?.ghesLogin].filter((l): l is string => typeof l === "string").map((l) => l.toLowerCase());
  return logins.includes(clicker.ghesLogin.toLowerCase());
}

/**
 * How a refusal names the requester's GHES account when it is the clicker's: by the login the
 * request kept, and, when a site admin renamed that account since, by its login now too.
 */
export function requestedAsYou(request: PeerRequest, clicker: AdminIdentity): string {
  const asked = request.requestedByGhes ?? clicker.ghesLogin;
  return asked.toLowerCase() === clicker.ghesLogin.toLowerCase()
    ? `as GHES \`${asked}\`, which is you too`
    : `as GHES \`${asked}\`, the GHES account you are signed in as (\`${clicker.ghesLogin}\` now: it was renamed since)`;
}
