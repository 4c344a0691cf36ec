// What the enable flow's browser pages come to, as core decides it: web/ turns each outcome into
// an HTTP status and HTML (src/web/github-routes.ts, src/web/pages.ts). Core builds no paths and
// no status codes; the public URLs it needs for GitHub are given to it (EnablePageUrls).
import type { RegistrationField } from "../enterprise-registration.js";

/** The bot's public URLs the flow sends people and GitHub to; built by the web adapter. */
export interface EnablePageUrls {
  /** The manifest form (carries the GitHub step's state). */
  manifest: string;
  /** Where GitHub returns with the app's creation code. */
  callback: string;
  /** Where GitHub sends the installer back. */
  setup: string;
  /** The enterprise registration guide. */
  register: string;
  /** Where the enterprise registration form posts the app's credentials. */
  credentials: string;
  /** Where people link their github.com account (the app's second callback URL). */
  linkCallback: string;
  /** The app's webhook URL (kept inactive). */
  webhook: string;
}

/** Why a page refused a request (the audit entry's `refusal`; the web adapter picks the status from it). */
export type PageRefusalCode =
  /** No state, or not one ghconnect issued for this step (unknown, used, expired, another step's). */
  | "no_valid_state"
  /** A parameter GitHub always sends is missing. */
  | "incomplete"
  /** A parameter the web adapter could not accept. */
  | "malformed"
  /** The state's operation is not at this step (done, ended, or another request is on it). */
  | "not_waiting"
  | "code_refused"
  | "code_unverified"
  | "malformed_credentials"
  | "key_refused"
  | "wrong_app"
  /** GitHub refused the form's client secret for the app's client id. */
  | "secret_refused"
  /** GitHub gave no verdict on the client secret (422, 5xx, no answer): nothing was stored, send again. */
  | "secret_unverified"
  | "authorization_refused"
  | "authorization_unverified"
  /** The operation was ended while this request worked on it: nothing was stored. */
  | "too_late";

/** What a page says: a title, a sentence, and maybe a link onward. */
export interface PageText {
  title: string;
  message: string;
  link?: { href: string; label: string };
}

export type PageOutcome =
  | { kind: "manifest"; action: string; manifest: Record<string, unknown>; org: string }
  | {
      /** The guide to registering an enterprise-owned app by hand, and the form that takes its credentials. */
      kind: "register";
      enterprise: string;
      newAppUrl: string;
      /** Which slug this enable is for, how to find the right one, and when it is checked. */
      slugNotice: string;
      fields: RegistrationField[];
      formAction: string;
      state: string;
      expiresAt: string;
    }
  /** On to GitHub (the installation page). */
  | { kind: "redirect"; location: string }
  /** The connection is made. */
  | ({ kind: "connected"; notified: boolean } & PageText)
  /** A request that needs nothing done (GitHub reporting a changed installation). */
  | ({ kind: "nothing_to_do" } & PageText)
  /** Refused: nothing changed, and the audit trail counts it. */
  | ({ kind: "refused"; refusal: PageRefusalCode } & PageText)
  /** The attempt ended as failed (said on the card and to the requester too, when `notified`). */
  | ({ kind: "failed"; notified: boolean } & PageText);

export function pageText(title: string, message: string, link?: { href: string; label: string }): PageText {
  return link ? { title, message, link } : { title, message };
}
