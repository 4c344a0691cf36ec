// Routes a parsed command to the handler that gives it meaning, and audits every command.
// The Slack listener asks `triage` first: commands answerable without I/O (help, input errors,
// commands not built yet) are answered inside Slack's 3-second ack. Read-only commands answered
// from the database and at most one shared, quick look elsewhere (`status`) may be answered in the
// ack too (`answerNow`), when that is quick; everything else runs after the ack and replies
// through response_url.
import type { AuditInput } from "./audit.js";
import { type Command, type CommandName, parseCommand } from "./commands.js";
import { UserError } from "./errors.js";
import type { Message } from "./message.js";
import { busyMessage, inputErrorMessage, notYetMessage, usageMessage, userBusyMessage } from "./replies.js";

export interface CommandContext {
  slackUserId: string;
  channelId: string;
  /** Where follow-up replies go (Slack's response_url); opaque to core. */
  replyRef?: string;
}

export type Handler<C extends Command = Command> = (command: C, ctx: CommandContext) => Promise<Message>;
export type Handlers = { [K in CommandName]?: Handler<Extract<Command, { name: K }>> };

/** A reply and the audit entry that records it, for the caller to write once the reply is out. */
export interface Answer {
  reply: Message;
  audit: AuditInput;
}

/** Answers a read-only command for the ack (its caller stops waiting after a budget), or undefined when it needs the slow path. */
export type NowHandler<C extends Command = Command> = (command: C, ctx: CommandContext) => Promise<Answer | undefined>;
export type NowHandlers = { [K in CommandName]?: NowHandler<Extract<Command, { name: K }>> };

export type Triage = { kind: "immediate"; reply: Message; audit: AuditInput } | { kind: "deferred"; command: Command };

/**
 * Why a command was turned away before it started: the bot's queue of work after acks is full,
 * or this Slack user already has `limit` commands queued or running.
 */
export type BusyReason = { kind: "queue-full" } | { kind: "per-user"; limit: number };

/** The subcommand a triaged command names (`rejected` for input errors), for metrics and audit. */
export function triagedName(triage: Triage): string {
  return triage.kind === "immediate" ? triage.audit.action.replace(/^command\./, "") : triage.command.name;
}

const MAX_AUDITED_TEXT = 200;

export class CommandRouter {
  constructor(
    private readonly handlers: Handlers,
    private readonly audit: (input: AuditInput) => Promise<unknown>,
    private readonly nowHandlers: NowHandlers = {},
  ) {}

  /** Decides, without I/O, whether the command can be answered in the ack. */
  triage(text: string, ctx: CommandContext): Triage {
    const actor = { slack: ctx.slackUserId };
    const parsed = parseCommand(text);
    if (!parsed.ok) {
      return {
        kind: "immediate",
        reply: inputErrorMessage(parsed.error),
        audit: {
          actor,
          action: "command.rejected",
          outcome: "refused",
          details: { text: text.slice(0, MAX_AUDITED_TEXT), length: text.length, reason: parsed.error },
        },
      };
    }
    const { command } = parsed;
    if (command.name === "help") {
      return {
        kind: "immediate",
        reply: usageMessage(),
        audit: { actor, action: "command.help", outcome: "ok", details: { channel: ctx.channelId } },
      };
    }
    if (!this.handlers[command.name]) {
      return {
        kind: "immediate",
        reply: notYetMessage(command.name),
        audit: { actor, action: `command.${command.name}`, outcome: "refused", details: { reason: "not available yet" } },
      };
    }
    return { kind: "deferred", command };
  }

  /**
   * The answer for a command turned away as busy: nothing ran, the person is told what to do, and
   * the entry (`command.busy`) names the subcommand and why, never the command's text (a search
   * query may be sensitive).
   */
  turnedAway(triage: Triage, ctx: CommandContext, reason: BusyReason): Answer {
    const command = triage.kind === "deferred" ? triage.command : undefined;
    return {
      reply: reason.kind === "per-user" ? userBusyMessage(reason.limit) : busyMessage(),
      audit: {
        actor: { slack: ctx.slackUserId },
        action: "command.busy",
        target: command && "org" in command ? command.org : null,
        outcome: "refused",
        details:
          reason.kind === "per-user"
            ? { command: triagedName(triage), reason: "per-user limit", limit: reason.limit }
            : { command: triagedName(triage), reason: "queue full" },
      },
    };
  }

  /** Whether `answerNow` can ever answer this command (most go straight to the slow path). */
  mayAnswerNow(command: Command): boolean {
    return this.nowHandlers[command.name] !== undefined;
  }

  /**
   * Tries to answer a deferred command without the slow path (for the ack); undefined when the
   * command has no such answer or needs the slow path this time. A refusal is an answer too.
   */
  async answerNow(command: Command, ctx: CommandContext): Promise<Answer | undefined> {
    const handler = this.nowHandlers[command.name] as NowHandler | undefined;
    if (!handler) return undefined;
    try {
      return await handler(command, ctx);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return { reply: error.toMessage(), audit: refusal(command, ctx, error) };
    }
  }

  /** Runs a deferred command; a UserError becomes its message, and the refusal is audited. */
  async run(command: Command, ctx: CommandContext): Promise<{ reply: Message; refused: boolean }> {
    const handler = this.handlers[command.name] as Handler | undefined;
    if (!handler) return { reply: notYetMessage(command.name), refused: true };
    try {
      return { reply: await handler(command, ctx), refused: false };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await this.audit(refusal(command, ctx, error));
      return { reply: error.toMessage(), refused: true };
    }
  }
}

function refusal(command: Command, ctx: CommandContext, error: UserError): AuditInput {
  return {
    actor: { slack: ctx.slackUserId, ...error.actor },
    action: `command.${command.name}`,
    target: "org" in command ? command.org : "feature" in command ? command.feature : null,
    outcome: "refused",
    details: {
      reason: error.message,
      code: error.code,
      // `feature enable|disable|run`: which of them was refused, for the admin channel's line.
      ...("feature" in command ? { verb: command.action } : {}),
    },
  };
}
