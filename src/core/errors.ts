// Errors a person can act on. Each carries the sentence the user will read; the Slack layer
// renders it and never invents its own wording.
import type { Actor } from "./audit.js";
import { type Message, refusalMessage } from "./message.js";

export class UserError extends Error {
  readonly code: string = "user_error";
  constructor(
    message: string,
    /** One line of what to do next, shown under the message. */
    readonly hint?: string,
    /** Who the refusal concerns, beyond the Slack user (for the audit entry). */
    readonly actor: Actor = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
  toMessage(): Message {
    return refusalMessage({ reason: this.message, hint: this.hint });
  }
}

export class NotAuthorized extends UserError {
  override readonly code = "not_authorized";
}

export class AlreadyConnected extends UserError {
  override readonly code = "already_connected";
}

export class OperationInFlight extends UserError {
  override readonly code = "operation_in_flight";
}

export class NotConnected extends UserError {
  override readonly code = "not_connected";
}

/** A dependency (GitHub, GHES, Slack) failed in a way the user should hear about verbatim. */
export class UpstreamError extends UserError {
  override readonly code = "upstream_error";
}

/** A dependency could not be reached at all (DNS, TLS, refused, timeout): `kind` picks the fix. */
export class Unreachable extends UpstreamError {
  constructor(
    message: string,
    hint: string,
    readonly network: { kind: string; host: string },
  ) {
    super(message, hint);
  }
}

/**
 * The bot's own database cannot be reached (db/ throws it for every driver failure that means so).
 * Its message is the driver's, for logs and start-up errors; a user is told databaseUnavailableMessage().
 */
export class DatabaseUnavailable extends Error {
  constructor(cause?: unknown) {
    super(cause instanceof Error && cause.message ? cause.message : "the bot's database is unavailable", { cause });
    this.name = "DatabaseUnavailable";
  }
}

/** The bot's configuration cannot do what was asked; an operator must change it. */
export class ConfigurationProblem extends UserError {
  override readonly code = "configuration";
}

/** Something about the GitHub side of the flow is wrong (wrong owner, not an owner, spoofed id). */
export class GitHubFlowRefused extends UserError {
  override readonly code = "github_refused";
}

/** GitHub does not offer this feature where the connection goes (GHE.com). */
export class FeatureUnavailable extends UserError {
  override readonly code = "feature_unavailable";
}
