// Replies that several commands share: usage, input errors, "not available yet", outages.
import type { CommandName } from "./commands.js";
import { USAGE } from "./help.js";
import { type Message, simpleMessage } from "./message.js";

export function usageMessage(): Message {
  const lines = USAGE.map(
    (u) => `• \`/ghconnect ${u.command}\`${u.alias ? ` (or \`${u.alias}\`)` : ""} — ${u.what}${u.who === "anyone" ? "" : ` _(${u.who})_`}`,
  );
  return {
    text: "ghconnect: connect this GitHub Enterprise Server to a GitHub Enterprise Cloud organization (GitHub Connect).",
    blocks: [
      { kind: "header", text: "ghconnect — GitHub Connect from Slack" },
      {
        kind: "text",
        text: "Connect this GitHub Enterprise Server to a GitHub Enterprise Cloud organization, disconnect it, and see every step in the admin channel's audit trail.",
      },
      { kind: "text", text: lines.join("\n") },
      {
        kind: "context",
        text: "Org names are GitHub's: letters, digits and single hyphens, up to 39 characters. Start with `/ghconnect check`.",
      },
    ],
  };
}

export function inputErrorMessage(error: string): Message {
  return simpleMessage(`:warning: ${error}`, "Nothing was changed. `/ghconnect help` lists every command.");
}

export function notYetMessage(command: CommandName): Message {
  return simpleMessage(
    `:construction: \`${command}\` is recognised but not available yet in this version of ghconnect. Nothing was changed.`,
    "`/ghconnect help` lists every command.",
  );
}

export function databaseUnavailableMessage(): Message {
  return simpleMessage(
    ":x: The bot's database is unavailable right now, so nothing was done or recorded. Try again in a minute; if it persists, an operator should check the database (`/healthz` reports it).",
  );
}

export function internalErrorMessage(reference: string): Message {
  return simpleMessage(
    `:x: Something went wrong inside ghconnect and the command did not complete; nothing was half-done. Reference \`${reference}\` for the bot's operator (it is in the logs).`,
  );
}

export function busyMessage(): Message {
  return simpleMessage(
    ":hourglass: ghconnect is busy with a burst of requests and did not start this one; nothing was done. Try again in a minute.",
  );
}

export function userBusyMessage(limit: number): Message {
  return simpleMessage(
    `:hourglass: You already have ${limit} commands running; wait for their answers (they will appear here) before sending more. This one was not started; nothing was done.`,
  );
}

export function foreignRequestMessage(): Message {
  return simpleMessage(
    ":no_entry: This ghconnect serves another Slack workspace or app, so it did not act on this request; nothing was done. If it is meant to serve this workspace, its operator should check SLACK_TEAM_ID and SLACK_APP_ID (the refusal is in its audit trail).",
  );
}

export function unverifiedWorkspaceMessage(): Message {
  return simpleMessage(
    ":hourglass: ghconnect has not yet confirmed which Slack workspace it serves (Slack has not answered its auth.test), so it did not act on this request; nothing was done. Try again in a minute; setting SLACK_TEAM_ID removes the wait.",
  );
}

/**
 * A request whose card Slack did not take (the bot is not in the admin channel, or Slack is
 * down), withdrawn: what happened, what stayed as it was, and how to ask again.
 */
export function cardNotPostedMessage(input: { card: string; channel: string; unchanged: string; command: string }): Message {
  return simpleMessage(
    `:warning: Nothing was requested: ${input.card} could not be posted in <#${input.channel}> (Slack did not take it), so nobody could approve it. ${input.unchanged}`,
    `Invite the bot to <#${input.channel}> (\`/invite @ghconnect\`), check Slack with \`/ghconnect check\`, then run \`/ghconnect ${input.command}\` again.`,
  );
}
