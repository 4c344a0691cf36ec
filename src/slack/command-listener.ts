// `/ghconnect …`: parse, ack within Slack's 3 seconds, then run slow work and reply through the
// command's response_url. No decisions here: core's router decides, this file only carries.
import { randomUUID } from "node:crypto";
import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import type { AuditInput } from "../core/audit.js";
import type { Message } from "../core/message.js";
import type { Notifier } from "../core/ports.js";
import { busyMessage, databaseUnavailableMessage, internalErrorMessage } from "../core/replies.js";
import type { CommandRouter } from "../core/router.js";
import { isDatabaseError } from "../db/errors.js";
import type { FirstDelivery } from "./dedupe.js";
import { ephemeral } from "./render.js";

export const SLASH_COMMAND = "/ghconnect";

export function registerCommandListener(
  app: App,
  deps: {
    router: CommandRouter;
    audit: (input: AuditInput) => Promise<unknown>;
    notifier: Notifier;
    log: Logger;
    onCommand?: (command: string, outcome: "ok" | "refused" | "rejected" | "error" | "busy") => void;
    /** Registers work that continues after the ack, so shutdown can wait for it. */
    run?: <T>(work: () => Promise<T>) => Promise<T>;
    /** true when work after acks is backed up: the command is refused at once ("busy"). */
    saturated?: () => boolean;
  },
): void {
  const { router, audit, notifier, log } = deps;
  const count = deps.onCommand ?? (() => {});
  app.command(SLASH_COMMAND, async ({ command, ack, context }) => {
    const firstDelivery = context.firstDelivery as FirstDelivery;
    // Replies go through the notifier (our proxy-aware transport), not Bolt's own HTTP client.
    const respond = (message: Message) => notifier.reply(command.response_url, message);
    const ctx = { slackUserId: command.user_id, channelId: command.channel_id, replyRef: command.response_url };
    const triage = router.triage(command.text ?? "", ctx);
    if (triage.kind === "immediate") {
      // A retry gets the same answer (Slack retries because it did not see the first), but is
      // audited once.
      await ack(ephemeral(triage.reply));
      try {
        if (!(await firstDelivery())) return;
        count(triage.audit.action.replace(/^command\./, ""), triage.audit.outcome === "ok" ? "ok" : "rejected");
        await audit(triage.audit);
      } catch (error) {
        log.error({ err: error }, "could not record or audit a command");
      }
      return;
    }
    if (deps.saturated?.()) {
      await ack(ephemeral(busyMessage()));
      count(triage.command.name, "busy");
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
