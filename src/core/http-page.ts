// The page shape core/link.ts still answers its browser pages with, HTTP status included. The
// enable flow answers with typed outcomes instead (core/enable/outcome.ts), which web/ maps to
// statuses and HTML; the link pages are to follow the same way (#17), and this file goes then.
export type PageResult =
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
