// Button clicks (block_actions): ack at once, then let core decide; the private answer goes back
// through the click's response_url. The clicking user is always body.user.id.
import { randomUUID } from "node:crypto";
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { Logger } from "pino";
import type { DisableFlow } from "../core/disable.js";
import type { EnableFlow } from "../core/enable/index.js";
import { DatabaseUnavailable } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { GovernedFeatures } from "../core/native/governed.js";
import type { Notifier } from "../core/ports.js";
import { databaseUnavailableMessage, internalErrorMessage } from "../core/replies.js";
import type { FirstDelivery } from "./dedupe.js";

type Handler = (value: string, userId: string) => Promise<Message>;

export function registerActionListeners(
  app: App,
  deps: {
    enable: EnableFlow;
    disable: DisableFlow;
    governed?: GovernedFeatures;
    notifier: Notifier;
    log: Logger;
    run?: <T>(work: () => Promise<T>) => Promise<T>;
  },
): void {
  const { notifier, log } = deps;
  const run = deps.run ?? (<T>(work: () => Promise<T>) => work());
  const answer = async (actionId: string, handler: Handler, value: string, userId: string, responseUrl: string | undefined) => {
    let reply: Message;
    try {
      reply = await handler(value, userId);
    } catch (error) {
      if (error instanceof DatabaseUnavailable) reply = databaseUnavailableMessage();
      else {
        const reference = randomUUID().slice(0, 8);
        log.error({ err: error, reference, action: actionId }, "button action failed");
        reply = internalErrorMessage(reference);
      }
    }
    if (responseUrl) await notifier.reply(responseUrl, reply);
  };
  const handlers: Record<string, Handler> = {
    "enable.accept": (value, user) => deps.enable.acceptAddendum(value, user),
    "enable.cancel": (value, user) => deps.enable.cancel(value, user),
    "disable.approve": (value, user) => deps.disable.approve(value, user),
    "disable.cancel": (value, user) => deps.disable.cancel(value, user),
    "disable.retry": (value, user) => deps.disable.retry(value, user),
    "disable.force": (value, user) => deps.disable.force(value, user),
    ...(deps.governed
      ? {
          "native-feature.approve": (value: string, user: string) => (deps.governed as GovernedFeatures).approve(value, user),
          "native-feature.cancel": (value: string, user: string) => (deps.governed as GovernedFeatures).cancel(value, user),
          "native-feature.confirm": (value: string, user: string) => (deps.governed as GovernedFeatures).confirm(value, user),
        }
      : {}),
  };
  // One listener for every click, dispatching here: Bolt runs each registered listener's
  // middleware for every request, and two listeners matching one click would both ack it.
  app.action(/.*/, async ({ ack, body, action, context }) => {
    await ack();
    const actionId = "action_id" in action ? action.action_id : "?";
    const handler = Object.hasOwn(handlers, actionId) ? handlers[actionId] : undefined;
    if (!handler) {
      // Link buttons still send a block_actions payload when clicked; they, and any other action
      // (an old message's button), are acknowledged at once rather than left for Slack to fail.
      if (!/^link(\.\d+)?$/.test(actionId)) log.info({ action: actionId }, "acknowledged an action ghconnect does not handle");
      return;
    }
    const click = body as BlockAction<ButtonAction>;
    await run(async () => {
      try {
        if (!(await (context.firstDelivery as FirstDelivery)())) return;
      } catch (error) {
        log.error({ err: error }, "could not record a Slack delivery");
        if (click.response_url) await notifier.reply(click.response_url, databaseUnavailableMessage());
        return;
      }
      await answer(actionId, handler, String((action as ButtonAction).value ?? ""), click.user.id, click.response_url);
    });
  });
}
