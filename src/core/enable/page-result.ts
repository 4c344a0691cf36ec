// What the enable flow's browser pages answer, and where they live.
import type { RegistrationField } from "../enterprise-registration.js";

export type PageResult =
  | { kind: "manifest"; action: string; manifest: Record<string, unknown>; org: string }
  | {
      /** The guide to registering an enterprise-owned app by hand, and the form that takes its credentials. */
      kind: "register";
      enterprise: string;
      newAppUrl: string;
      fields: RegistrationField[];
      formAction: string;
      state: string;
      expiresAt: string;
    }
  | { kind: "redirect"; location: string /** Set-Cookie values, for the link pages' browser binding. */; cookies?: string[] }
  | {
      kind: "page";
      status: number;
      tone: "ok" | "neutral" | "error";
      title: string;
      message: string;
      link?: { href: string; label: string };
      /** Slack got the news (the card was updated or the requester answered): the page may say so. */
      notified?: boolean;
    };

export const CALLBACK_PATH = "/ghconnect/github/callback";
export const SETUP_PATH = "/ghconnect/github/setup";
export const MANIFEST_PATH = "/ghconnect/manifest";
export const REGISTER_PATH = "/ghconnect/enterprise/register";
export const CREDENTIALS_PATH = "/ghconnect/enterprise/credentials";

export const errorPage = (status: number, title: string, message: string, link?: { href: string; label: string }): PageResult => ({
  kind: "page",
  status,
  tone: "error",
  title,
  message,
  link,
});
