// `/ghconnect …`: parse, ack within Slack's 3 seconds, then run slow work and reply through the
// command's response_url. No decisions here: core's router decides, this file only carries.
import { randomUUID } from "node:crypto";
import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import type { AuditInput } from "../core/audit.js";
import type { Command } from "../core/commands.js";
import { DatabaseUnavailable } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { Notifier } from "../core/ports.js";
import { databaseUnavailableMessage, internalErrorMessage } from "../core/replies.js";
import { type Answer, type CommandContext, type CommandRouter, triagedName } from "../core/router.js";
import { PerKeyLimit } from "../inflight.js";
import type { CommandListener } from "./command-lane.js";
import type { AuditOnce, FirstDelivery } from "./dedupe.js";
import { ephemeral } from "./render.js";

export const SLASH_COMMAND = "/ghconnect";

/**
 * How long the ack may wait for an answer from the database (`router.answerNow`). Slack allows
 * 3 s for the whole round trip; past this the command takes the slow path (reply through
 * response_url), which also tells the user when the database is down.
 */
export const ANSWER_IN_ACK_BUDGET_MS = 1000;

/**
 * How long an ack may wait for its own answer to be recorded when recording is backed up. Past
 * it the answer goes out anyway (it is still recorded, later): Slack allows 3 s in all.
 */
export const RECORD_WAIT_BUDGET_MS = 1000;

/** Commands one Slack user may have queued or running after their acks (SPEC §7). */
export const PER_USER_LIMIT = 3;

async function answerWithinAck(router: CommandRouter, command: Command, ctx: CommandContext, log: Logger): Promise<Answer | undefined> {
  // No timer and no race for commands that always take the slow path.
  if (!router.mayAnswerNow(command)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let spent = false;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      spent = true;
      resolve(undefined);
    }, ANSWER_IN_ACK_BUDGET_MS);
  });
  const answer = router.answerNow(command, ctx).catch((error: unknown) => {
    log.warn(
      { err: error, command: command.name },
      spent
        ? "the answer for the ack failed after the ack had gone; the answer after it says why"
        : "could not answer in the ack; answering after it",
    );
    return undefined;
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `busy`: the bot's queue was full; `limited`: the user already had PER_USER_LIMIT in flight. */
type Outcome = "ok" | "refused" | "rejected" | "error" | "busy" | "limited";

/**
 * Answers given in the ack are recorded right after it: the delivery and the audit entry in one
 * group-committed write, skipped for Slack's retry of a delivery (which got the same answer
 * again). The listener does not wait for it unless recording is backed up, and it is built
 * outside the listener: a record waiting its turn holds its entry, not the whole request (under a
 * burst thousands wait, and what they hold is GC work).
 */
function answerRecorder(
  schedule: (work: () => Promise<void>) => Promise<void>,
  count: (command: string, outcome: Outcome) => void,
  log: Logger,
) {
  return (auditOnce: AuditOnce, name: string, entry: AuditInput, outcome: Exclude<Outcome, "error">) =>
    schedule(async () => {
      try {
        if (await auditOnce(entry)) count(name, outcome);
      } catch (error) {
        log.error({ err: error }, "could not record or audit a command");
      }
    });
}

export function registerCommandListener(
  app: App,
  deps: {
    router: CommandRouter;
    notifier: Notifier;
    log: Logger;
    onCommand?: (command: string, outcome: Outcome) => void;
    /** Registers work that continues after the ack, so shutdown can wait for it. */
    run?: <T>(work: () => Promise<T>) => Promise<T>;
    /** Like `run`, for recording an answer already given (cheap, batched, many at once). */
    record?: (work: () => Promise<void>) => Promise<void>;
    /** true when the queue of slow work after acks is full: a command that needs it is refused ("busy"). */
    saturated?: () => boolean;
    /**
     * true when more answers wait to be recorded than the writer clears in a moment: each ack then
     * waits for its own record (up to RECORD_WAIT_BUDGET_MS) before it goes out. Under sustained
     * load that paces the senders to the write rate, so every answer is real and the backlog (its
     * memory, and the time an answer stays unaudited) stays bounded; refusing commands as "busy"
     * instead saved nothing, since each refusal is recorded too.
     */
    recordingBackedUp?: () => boolean;
    /** Commands one user may have queued or running after the ack (default PER_USER_LIMIT). */
    perUserLimit?: number;
  },
): CommandListener {
  const { router, notifier, log } = deps;
  const count = deps.onCommand ?? (() => {});
  const recordNow = answerRecorder(deps.record ?? ((work) => work()), count, log);
  const record = async (auditOnce: AuditOnce, name: string, entry: AuditInput, outcome: Exclude<Outcome, "error">) => {
    if (!deps.recordingBackedUp?.()) {
      void recordNow(auditOnce, name, entry, outcome);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      recordNow(auditOnce, name, entry, outcome),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, RECORD_WAIT_BUDGET_MS);
      }),
    ]);
    clearTimeout(timer);
  };
  const perUser = new PerKeyLimit(deps.perUserLimit ?? PER_USER_LIMIT);
  const listener: CommandListener = async ({ command, ack, context }) => {
    const firstDelivery = context.firstDelivery as FirstDelivery;
    const auditOnce = context.auditOnce as AuditOnce;
    // Replies go through the notifier (our proxy-aware transport), not Bolt's own HTTP client.
    const respond = (message: Message) => notifier.reply(command.response_url, message);
    const ctx = { slackUserId: command.user_id, channelId: command.channel_id, replyRef: command.response_url };
    const triage = router.triage(command.text ?? "", ctx);
    const name = triagedName(triage);
    // Every answer given in the ack is recorded (batched, once per delivery); while recording is
    // backed up, before the ack goes out (see recordingBackedUp).
    const answerInAck = async (answer: Answer, outcome: Exclude<Outcome, "error">) => {
      await record(auditOnce, name, answer.audit, outcome);
      await ack(ephemeral(answer.reply));
    };
    // Turned away: a refusal that nobody recorded is what an auditor must never find.
    const turnAway = (answer: Answer, outcome: "busy" | "limited") => answerInAck(answer, outcome);
    if (triage.kind === "immediate") return answerInAck(triage, triage.audit.outcome === "ok" ? "ok" : "rejected");
    const answer = await answerWithinAck(router, triage.command, ctx, log);
    // Answered in the ack (read-only: `status`, from the database and a shared look at GHES).
    if (answer) return answerInAck(answer, answer.audit.outcome === "ok" ? "ok" : "refused");
    // Slow work from here on. The user's place is taken before the ack and given back when the
    // reply is out; answers above (help, errors, status from the database) need no place.
    const release = perUser.take(command.user_id);
    if (!release) return turnAway(router.turnedAway(triage, ctx, { kind: "per-user", limit: perUser.limit }), "limited");
    if (deps.saturated?.()) {
      release();
      return turnAway(router.turnedAway(triage, ctx, { kind: "queue-full" }), "busy");
    }
    const deferred = triage.command;
    const run = deps.run ?? (<T>(work: () => Promise<T>) => work());
    try {
      await ack();
      await run(runDeferred);
    } finally {
      release();
    }
    async function runDeferred(): Promise<void> {
      try {
        if (!(await firstDelivery())) {
          log.info({ command: deferred.name }, "duplicate Slack delivery acknowledged and not run again");
          return;
        }
        const { reply, refused } = await router.run(deferred, ctx);
        count(deferred.name, refused ? "refused" : "ok");
        await respond(reply);
      } catch (error) {
        count(deferred.name, "error");
        if (error instanceof DatabaseUnavailable) {
          log.error({ err: error }, "database unavailable while running a command");
          await respond(databaseUnavailableMessage());
          return;
        }
        const reference = randomUUID().slice(0, 8);
        log.error({ err: error, reference, command: deferred.name }, "command failed");
        await respond(internalErrorMessage(reference));
      }
    }
  };
  app.command(SLASH_COMMAND, listener);
  return listener;
}
