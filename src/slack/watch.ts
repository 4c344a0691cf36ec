// Whether Slack can be used right now, for /healthz and the logs: the last auth.test (checked
// at start-up, then on a schedule, sooner and with backoff while it fails) and, in Socket Mode,
// whether the socket is connected. A change is logged once, in one line that names the cause.
import type { Logger } from "pino";
import type { SlackHealth, SlackProbe } from "../core/ports.js";
import { slackProblem } from "../core/slack-check.js";

export interface SlackWatchOptions {
  probe: () => Promise<SlackProbe>;
  log: Logger;
  proxy?: string;
  /** Re-check interval while Slack answers; while it does not, retries start sooner and back off to this. */
  everyMs: number;
  now?: () => Date;
}

export class SlackWatch {
  private api: SlackHealth;
  private socket?: SlackHealth;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: SlackWatchOptions) {
    this.api = { status: "unreachable", detail: "not checked yet", since: this.now() };
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  /** The worst of the Web API and the socket. */
  get health(): SlackHealth {
    if (this.api.status !== "ok") return this.api;
    return this.socket && this.socket.status !== "ok" ? this.socket : this.api;
  }

  /** One auth.test now; records and logs the outcome. */
  async checkNow(): Promise<SlackProbe> {
    const probe = await this.options.probe();
    this.note(probe);
    return probe;
  }

  /** Records an auth.test outcome; a change is logged once. */
  note(probe: SlackProbe): void {
    if (probe.ok) {
      if (this.api.status !== "ok" && this.api.detail !== "not checked yet")
        this.options.log.info({ slack: probe.host }, `Slack is reachable again (${probe.host}); /healthz is ok`);
      if (this.api.status !== "ok") this.api = { status: "ok", detail: `@${probe.botUser} in ${probe.team}`, since: this.now() };
      this.failures = 0;
    } else {
      const { detail, advice } = slackProblem(probe, this.options.proxy);
      const status = probe.reason === "token_refused" ? "token_refused" : "unreachable";
      if (this.api.detail !== detail) {
        this.options.log.error({ slack: probe.host, reason: probe.code }, `${detail}. ${advice} /healthz reports degraded; retrying`);
        this.api = { status, detail, since: this.now() };
      }
      this.failures++;
    }
  }

  /** Re-checks on a schedule: every `everyMs` while ok, from a fifth of it (backing off) while not. */
  start(): void {
    const { everyMs } = this.options;
    const delay = this.api.status === "ok" ? everyMs : Math.min(everyMs, (everyMs / 5) * 2 ** Math.max(0, this.failures - 1));
    this.timer = setTimeout(() => {
      void this.checkNow()
        .catch((error) => this.options.log.warn({ err: error }, "Slack health check failed"))
        .finally(() => {
          if (!this.stopped) this.start();
        });
    }, delay);
    this.timer.unref();
  }

  /** Follows a Socket Mode client's lifecycle events (connected, reconnecting, disconnected). */
  watchSocket(client: { on(event: string, listener: () => void): unknown }): void {
    this.socket = { status: "socket_down", detail: "Socket Mode is connecting", since: this.now() };
    client.on("connected", () => {
      if (this.socket?.status !== "ok") this.options.log.info("Socket Mode connected");
      this.socket = { status: "ok", detail: "Socket Mode connected", since: this.now() };
    });
    const down = (detail: string) => () => {
      if (this.stopped) return;
      if (this.socket?.status === "ok") this.options.log.error(`${detail}; /healthz reports degraded until it reconnects`);
      if (this.socket?.status !== "socket_down") this.socket = { status: "socket_down", detail, since: this.now() };
    };
    client.on("close", down("Socket Mode lost its connection to Slack and is reconnecting"));
    client.on("reconnecting", down("Socket Mode lost its connection to Slack and is reconnecting"));
    client.on("disconnected", down("Socket Mode is disconnected from Slack"));
  }

  /** Marks the socket as not connected yet, with why (start-up taking too long). */
  noteSocketDown(detail: string): void {
    if (this.socket?.status !== "ok") this.socket = { status: "socket_down", detail, since: this.socket?.since ?? this.now() };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
