// Button clicks (block_actions): ack at once, then let core decide; the private answer goes back
// through the click's response_url. The clicking user is always body.user.id.
import { randomUUID } from "node:crypto";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { Logger } from "pino";
import type { DisableFlow } from "../core/disable.js";
import type { EnableFlow } from "../core/enable.js";
import type { Message } from "../core/message.js";
import type { Notifier } from "../core/ports.js";
import { databaseUnavailableMessage, internalErrorMessage } from "../core/replies.js";
import { isDatabaseError } from "../db/errors.js";

type Handler = (value: string, userId: string) => Promise<Message>;

export function registerActionListeners(
  app: App,
  deps: { enable: EnableFlow; disable: DisableFlow; notifier: Notifier; log: Logger },
): void {
  const { notifier, log } = deps;
  const route = (actionId: string, handler: Handler) => {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action }) => {
      await ack();
      const responseUrl = body.response_url;
      let reply: Message;
      try {
        reply = await handler(String(action.value ?? ""), body.user.id);
      } catch (error) {
        if (isDatabaseError(error)) reply = databaseUnavailableMessage();
        else {
          const reference = randomUUID().slice(0, 8);
          log.error({ err: error, reference, action: actionId }, "button action failed");
          reply = internalErrorMessage(reference);
        }
      }
      if (responseUrl) await notifier.reply(responseUrl, reply);
    });
  };
  route("enable.accept", (value, user) => deps.enable.acceptAddendum(value, user));
  route("enable.cancel", (value, user) => deps.enable.cancel(value, user));
  route("disable.approve", (value, user) => deps.disable.approve(value, user));
  route("disable.cancel", (value, user) => deps.disable.cancel(value, user));
  route("disable.retry", (value, user) => deps.disable.retry(value, user));
  route("disable.force", (value, user) => deps.disable.force(value, user));
  // Link buttons still send a block_actions payload when clicked; acknowledge them.
  app.action(/^link(\.\d+)?$/, async ({ ack }) => {
    await ack();
  });
}
