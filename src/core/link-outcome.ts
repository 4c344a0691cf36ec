// What the link pages (`/ghconnect link`'s start page, its confirmation and the two sign-in
// returns) come to, as core decides it: web/ turns each outcome into an HTTP status, a cookie and
// HTML (src/web/link-routes.ts, src/web/pages.ts). Core builds no paths, no cookies and no status
// codes; the public URLs it needs are given to it (LinkPageUrls).
import type { PageText } from "./enable/outcome.js";
import type { LinkSide } from "./identity.js";

/** The bot's public URLs the link pages send people and GitHub to; built by the web adapter. */
export interface LinkPageUrls {
  /** The start page, the Slack buttons' target (with `?state=`). */
  start: string;
  /** Where the start page's confirmation form posts. */
  confirm: string;
  /** Where each sign-in returns (the OAuth redirect_uri; the connected app lists the github.com one). */
  callback: Record<LinkSide, string>;
}

/** Why a link page refused a request (the web adapter picks the status from it). */
export type LinkRefusalCode =
  /** No state, or not a link ghconnect issued for this step (unknown, used, expired, another step's). */
  | "no_valid_link"
  /** The github.com side needs the connected app, and there is none (any more). */
  | "not_connected"
  /** The confirmation was posted from another site or without the page's token. */
  | "not_confirmed"
  /** The sign-in returned to a browser that did not confirm it. */
  | "other_browser"
  /** The person cancelled on GitHub (no code came back). */
  | "cancelled"
  /** GitHub refused the sign-in code. */
  | "code_refused"
  /** GitHub gave no verdict on the code or the login (5xx, no answer): nothing was linked, try again. */
  | "code_unverified"
  /** The person's admin roster entry is for another GHES login. */
  | "wrong_login"
  /** The login is already linked to another Slack user. */
  | "login_taken";

export type LinkPageOutcome =
  | {
      /** The start page: whose link this is and for which side, and the form that continues. */
      kind: "confirm";
      /** The Slack user id the link was issued to. */
      person: string;
      /** When they asked for it (`/ghconnect link`), as "HH:MM UTC". */
      askedAt: string;
      workspace?: string;
      side: LinkSide;
      sideLabel: string;
      formAction: string;
      state: string;
      token: string;
      /** The browser's name, for it to keep (the form's token and the sign-in's binding derive from it). */
      browser: string;
    }
  /** On to GitHub's sign-in, the browser keeping its name. */
  | { kind: "redirect"; location: string; browser: string }
  /** The account is linked. */
  | ({ kind: "linked" } & PageText)
  /** Refused: nothing was linked, and the audit trail counts it. */
  | ({ kind: "refused"; refusal: LinkRefusalCode } & PageText);
