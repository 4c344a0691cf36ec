// Opening Socket Mode at start-up without hanging on it. Bolt's `app.start()` resolves only once
// the socket is connected; while Slack or its WebSocket host cannot be reached it waits (its
// client retries by itself), so start-up waits a few seconds, then goes on degraded and says why.
// A refused app-level token is reported to the caller, which stops the start.
import type { Logger } from "pino";
import type { SlackWatch } from "./watch.js";

export interface SocketStartOptions {
  /** Bolt's app.start(): resolves when connected, rejects when Slack refuses or the client gives up. */
  start: () => Promise<unknown>;
  watch: SlackWatch;
  log: Logger;
  waitMs: number;
  /** The Web API host, for the log line (apps.connections.open is called there). */
  apiHost: string;
  /** How long to wait before starting again after the client gave up. */
  retryMs?: number;
}

export interface SocketStart {
  /** Slack's error code when it refused the app-level token (invalid_auth…), else undefined. */
  refused?: string;
  stop(): void;
}

export async function startSocketMode(options: SocketStartOptions): Promise<SocketStart> {
  const { watch, log, waitMs } = options;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const open = async (): Promise<string | undefined> => {
    try {
      await options.start();
      return undefined;
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code || stopped) return code;
      // The client's own retries ran out: start again later; /healthz stays degraded meanwhile.
      const retryMs = options.retryMs ?? 30_000;
      watch.noteSocketDown(`Socket Mode could not start (${(error as Error).message}); trying again in ${retryMs / 1000} s`);
      log.error({ err: error }, `Socket Mode could not start; trying again in ${retryMs / 1000} s`);
      retry = setTimeout(() => void open().then(reportLateRefusal), retryMs);
      retry.unref();
      return undefined;
    }
  };
  const reportLateRefusal = (code: string | undefined) => {
    if (code) log.error(`SLACK_APP_TOKEN was refused by Slack when opening Socket Mode (${code}); /healthz reports degraded`);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(retry);
  };

  const opening = open();
  let waiting: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    opening.then((refused) => ({ refused })),
    new Promise<"waiting">((resolve) => {
      waiting = setTimeout(() => resolve("waiting"), waitMs);
    }),
  ]);
  clearTimeout(waiting);
  if (outcome !== "waiting") return { refused: outcome.refused, stop };
  watch.noteSocketDown(`Socket Mode not connected after ${waitMs / 1000} s; still trying`);
  log.error(
    `Socket Mode not connected after ${waitMs / 1000} s: check that this host reaches ${options.apiHost} and Slack's WebSocket host (wss-primary.slack.com); /healthz reports degraded until it connects`,
  );
  void opening.then(reportLateRefusal);
  return { stop };
}
