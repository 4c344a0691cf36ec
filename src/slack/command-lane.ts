// `/ghconnect` over HTTP, without Bolt's dispatch. Under sustained load Bolt's processEvent
// (context building, authorize, its middleware runner and listener matching) was the largest
// share of a command's CPU after the socket write, more than the command's own work and its
// audit entry together. This lane runs the same middleware (delivery context, workspace guard)
// and the same listener Bolt runs for a slash command, in the same order, with the same ack;
// the receiver keeps Bolt's protocol around it (http-receiver.ts). Everything else — clicks,
// other commands, Socket Mode — still goes through Bolt.
import type { AllMiddlewareArgs, AnyMiddlewareArgs, Context, Middleware, SlackCommandMiddlewareArgs } from "@slack/bolt";

type Body = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: Bolt's AckFn takes any response body.
export type Ack = (response?: any) => Promise<void>;
export type CommandListener = (args: Pick<SlackCommandMiddlewareArgs, "command" | "ack"> & { context: Context }) => Promise<void>;

export interface CommandLane {
  /** True for the slash command this lane runs. */
  handles(body: Body): boolean;
  /** Runs the middleware, then the listener, as Bolt would; rejects only when `onError` rethrows. */
  run(body: Body, ack: Ack, retry: { retryNum?: number; retryReason?: string }): Promise<void>;
}

/**
 * `onError` is app.error's handler: as in Bolt, an error thrown by the middleware or the listener
 * goes to it, and the request stays unacknowledged unless it throws again (then the receiver
 * answers 500, as it does for Bolt).
 */
export function commandLane(
  command: string,
  middleware: Middleware<AnyMiddlewareArgs>[],
  listener: CommandListener,
  onError: (error: Error) => Promise<void>,
): CommandLane {
  return {
    handles: (body) => body.command === command,
    async run(body, ack, retry) {
      // What Bolt puts in the context of every request (X-Slack-Retry-Num/Reason).
      const context: Context = { isEnterpriseInstall: false, ...retry };
      const slashCommand = body as unknown as SlackCommandMiddlewareArgs["command"];
      let i = 0;
      const next = async (): Promise<void> => {
        const m = middleware[i++];
        // The fields our middleware reads (body, context, next, ack); Bolt's others are not used by them.
        if (m)
          await m({ body, payload: slashCommand, command: slashCommand, context, ack, next } as unknown as AnyMiddlewareArgs &
            AllMiddlewareArgs);
        else await listener({ command: slashCommand, ack, context });
      };
      try {
        await next();
      } catch (error) {
        await onError(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
