// `/ghconnect …`: parse, ack within Slack's 3 seconds, then run slow work and reply through the
// command's response_url. No decisions here: core's router decides, this file only carries.
import { randomUUID } from "node:crypto";
import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import type { AuditInput } from "../core/audit.js";
import type { Command } from "../core/commands.js";
import type { Message } from "../core/message.js";
import type { Notifier } from "../core/ports.js";
import { busyMessage, databaseUnavailableMessage, internalErrorMessage } from "../core/replies.js";
import type { Answer, CommandContext, CommandRouter } from "../core/router.js";
import { isDatabaseError } from "../db/errors.js";
import type { AuditOnce, FirstDelivery } from "./dedupe.js";
import { ephemeral } from "./render.js";

export const SLASH_COMMAND = "/ghconnect";

/**
 * How long the ack may wait for an answer from the database (`router.answerNow`). Slack allows
 * 3 s for the whole round trip; past this the command takes the slow path (reply through
 * response_url), which also tells the user when the database is down.
 */
export const ANSWER_IN_ACK_BUDGET_MS = 1000;

async function answerWithinAck(router: CommandRouter, command: Command, ctx: CommandContext, log: Logger): Promise<Answer | undefined> {
  // No timer and no race for commands that always take the slow path.
  if (!router.mayAnswerNow(command)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ANSWER_IN_ACK_BUDGET_MS);
  });
  const answer = router.answerNow(command, ctx).catch((error: unknown) => {
    log.warn({ err: error, command: command.name }, "could not answer in the ack; answering after it");
    return undefined;
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = "ok" | "refused" | "rejected" | "error" | "busy";

/**
 * Answers given in the ack are recorded right after it: the delivery and the audit entry in one
 * group-committed write, skipped for Slack's retry of a delivery (which got the same answer
 * again). Bounded: when too many wait to be written, new commands are told "busy". The listener
 * does not wait for it, and it is built outside the listener: a record waiting its turn holds its
 * entry, not the whole request (under a burst thousands wait, and what they hold is GC work).
 */
function answerRecorder(
  schedule: (work: () => Promise<void>) => Promise<void>,
  count: (command: string, outcome: Outcome) => void,
  log: Logger,
) {
  return (auditOnce: AuditOnce, name: string, entry: AuditInput, outcome: "ok" | "refused" | "rejected") =>
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
    /** true when work after acks is backed up: the command is refused at once ("busy"). */
    saturated?: () => boolean;
  },
): void {
  const { router, notifier, log } = deps;
  const count = deps.onCommand ?? (() => {});
  const record = answerRecorder(deps.record ?? ((work) => work()), count, log);
  app.command(SLASH_COMMAND, async ({ command, ack, context }) => {
    const firstDelivery = context.firstDelivery as FirstDelivery;
    const auditOnce = context.auditOnce as AuditOnce;
    // Replies go through the notifier (our proxy-aware transport), not Bolt's own HTTP client.
    const respond = (message: Message) => notifier.reply(command.response_url, message);
    const ctx = { slackUserId: command.user_id, channelId: command.channel_id, replyRef: command.response_url };
    const triage = router.triage(command.text ?? "", ctx);
    const name = triage.kind === "immediate" ? triage.audit.action.replace(/^command\./, "") : triage.command.name;
    if (deps.saturated?.()) {
      await ack(ephemeral(busyMessage()));
      count(name, "busy");
      return;
    }
    if (triage.kind === "immediate") {
      await ack(ephemeral(triage.reply));
      void record(auditOnce, name, triage.audit, triage.audit.outcome === "ok" ? "ok" : "rejected");
      return;
    }
    const answer = await answerWithinAck(router, triage.command, ctx, log);
    if (answer) {
      // Answered in the ack (read-only, from the database alone).
      await ack(ephemeral(answer.reply));
      void record(auditOnce, name, answer.audit, answer.audit.outcome === "ok" ? "ok" : "refused");
      return;
    }
    await ack();
    const deferred = triage.command;
    const run = deps.run ?? (<T>(work: () => Promise<T>) => work());
    await run(runDeferred);
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
        if (isDatabaseError(error)) {
          log.error({ err: error }, "database unavailable while running a command");
          await respond(databaseUnavailableMessage());
          return;
        }
        const reference = randomUUID().slice(0, 8);
        log.error({ err: error, reference, command: deferred.name }, "command failed");
        await respond(internalErrorMessage(reference));
      }
    }
  });
}
