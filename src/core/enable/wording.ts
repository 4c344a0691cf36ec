// The enable flow's sentences that more than one step says: where an operation stands, why a
// link is not valid, and the replies after the preflight and the addendum.
import { enableArgument, when } from "../enable-card.js";
import { type Message, simpleMessage } from "../message.js";
import type { Operation, OperationStatus } from "../model.js";
import type { CheckResult } from "../preflight.js";
import { type PageOutcome, type PageText, pageText } from "./outcome.js";

export function describeWait(status: OperationStatus): string {
  switch (status) {
    case "preflight":
      return "running its preflight checks";
    case "awaiting_addendum":
      return "waiting for the addendum to be accepted";
    case "awaiting_github":
    case "awaiting_install":
      return "waiting for GitHub";
    default:
      return "finishing";
  }
}

/** Why an operation cannot take the action the user tried, in words. */
export function statusExplanation(op: Operation): string {
  switch (op.status) {
    case "awaiting_github":
    case "awaiting_install":
      return `The addendum was already accepted (${op.addendumAcceptedAt ? when(op.addendumAcceptedAt) : "earlier"}); this enable of ${op.org} is waiting for GitHub.`;
    case "completing":
      return `This enable of ${op.org} is completing right now; if it has not finished by ${when(op.expiresAt)}, it can be cancelled then.`;
    case "succeeded":
      return `This enable of ${op.org} already succeeded.`;
    case "failed":
      return `This enable of ${op.org} failed${op.error ? `: ${op.error}` : ""}. Run \`/ghconnect enable ${enableArgument(op)}\` to try again.`;
    case "expired":
      return `This request expired at ${when(op.expiresAt)}. Run \`/ghconnect enable ${enableArgument(op)}\` again.`;
    case "cancelled":
      return `This request was cancelled. Run \`/ghconnect enable ${enableArgument(op)}\` to start again.`;
    default:
      return `This enable of ${op.org} is ${describeWait(op.status)}.`;
  }
}

export function stateProblemPage(reason: "unknown" | "used" | "expired" | "wrong_purpose"): PageText {
  switch (reason) {
    case "used":
      return pageText(
        "Link already used",
        "This link was already used; each works once. Nothing was changed. If the enable did not finish, run `/ghconnect enable ORG` again.",
      );
    case "expired":
      return pageText("Link expired", "This link expired (links last 60 minutes). Nothing was changed. Run `/ghconnect enable ORG` again.");
    case "wrong_purpose":
      return pageText("Wrong link", "This link belongs to another step of the flow. Nothing was changed.");
    default:
      return pageText(
        "Unknown link",
        "ghconnect did not issue this link, or it belongs to an operation that has ended. Nothing was changed.",
      );
  }
}

export const MISSING_STATE_PAGE = pageText(
  "Not a return from GitHub",
  "This page needs the link GitHub returns after installing the app, which carries the `state` ghconnect gave GitHub for this enable. This request had none, so it was refused. Nothing was changed. If you are enabling GitHub Connect, go back to the link ghconnect sent you in Slack.",
);

/** GitHub sends `setup_action=update` when an owner later edits the installation. */
export const NOTHING_TO_DO_PAGE: PageOutcome = {
  kind: "nothing_to_do",
  title: "Nothing to do",
  message:
    "GitHub sent you here because the app's installation was changed. ghconnect needs nothing for that, and nothing was changed. `/ghconnect status` in Slack shows the connection.",
};

export function preflightReply(org: string, results: CheckResult[], passed: boolean): Message {
  const failed = results.filter((r) => r.status === "fail");
  if (!passed) {
    return simpleMessage(
      `❌ Preflight for ${org} failed; nothing was changed.\n${failed.map((r) => `• *${r.name}*: ${r.detail}${r.advice ? ` → ${r.advice}` : ""}`).join("\n")}`,
      "The card in the admin channel has every check. Fix what failed, then run `/ghconnect enable` again.",
    );
  }
  return simpleMessage(
    `✅ Preflight for ${org} passed. Read the GitHub Connect Addendum on the card in the admin channel and accept it to continue.`,
  );
}

/** After the addendum, an enterprise's owner registers the app by hand: the reply links the bot's guide. */
export function registrationReply(op: Operation, link: string): Message {
  return {
    text: `Register the GitHub App for the enterprise ${op.org}: ${link}`,
    blocks: [
      {
        kind: "text",
        text: `Addendum accepted. GitHub does not create apps for an enterprise account from a manifest, so you register it by hand: the page lists every field to copy into GitHub's form (signed in as an owner of the enterprise *${op.org}*), then takes the app's credentials, which never go through Slack.`,
      },
      { kind: "actions", buttons: [{ action: "link", label: "Register the app", url: link, style: "primary" }] },
      { kind: "context", text: `This link is yours alone and expires at ${when(op.expiresAt)}; the form in it works once.` },
    ],
  };
}

/** After the addendum, an organization's owner continues on GitHub, which creates the app from the manifest. */
export function continueOnGitHubReply(op: Operation, link: string, site: string): Message {
  return {
    text: `Continue on GitHub to create the app for ${op.org}: ${link}`,
    blocks: [
      {
        kind: "text",
        text: `Addendum accepted. Continue on ${site}, signed in as an owner of *${op.org}*: GitHub will show the app to create, then ask you to install it.`,
      },
      { kind: "actions", buttons: [{ action: "link", label: "Continue on GitHub", url: link, style: "primary" }] },
      { kind: "context", text: `This link is yours alone, works once, and expires at ${when(op.expiresAt)}.` },
    ],
  };
}
