// Plays Slack's side of the conversation: signed slash commands and block_actions POSTed to the
// bot's /slack/events, exactly as Slack sends them (form-encoded, v0 signature), and Slack's
// retries of the same delivery with X-Slack-Retry-Num.
import { createHmac, randomBytes } from "node:crypto";
import type { SlackSandbox } from "./server.js";

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
  channel: string;
  user: string;
  kind: "command" | "block_actions";
}

export interface DeliveryResult {
  status: number;
  /** The bot's ack body, parsed when JSON. */
  ack: unknown;
  request: SignedRequest;
}

export function signSlackRequest(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export class SlackDriver {
  constructor(
    private readonly opts: {
      botUrl: string;
      signingSecret: string;
      slack: SlackSandbox;
      /** The workspace the requests come from (T0SANDBOX, the sandbox's own, unless told). */
      teamId?: string;
      /** The app they are sent for (A0GHCONNECT unless told). */
      appId?: string;
      defaultChannel: string;
      now?: () => number;
    },
  ) {}

  private nowSeconds(): number {
    return Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
  }

  /** Builds a signed slash command without sending it. */
  commandRequest(user: string, text: string, options: { channel?: string; command?: string } = {}): SignedRequest {
    const channel = options.channel ?? this.opts.defaultChannel;
    const form = new URLSearchParams({
      token: "deprecated-verification-token",
      team_id: this.opts.teamId ?? "T0SANDBOX",
      team_domain: "sandbox",
      channel_id: channel,
      channel_name: channel === this.opts.defaultChannel ? "ghes-admins" : "general",
      user_id: user,
      user_name: user.toLowerCase(),
      command: options.command ?? "/ghconnect",
      text,
      api_app_id: this.opts.appId ?? "A0GHCONNECT",
      is_enterprise_install: "false",
      response_url: this.opts.slack.newResponseUrl(channel, user),
      trigger_id: `${Date.now()}.${randomBytes(6).toString("hex")}`,
    });
    return this.sign({ body: form.toString(), headers: {}, channel, user, kind: "command" });
  }

  /** Builds a signed click on a button of a posted message. */
  clickRequest(
    user: string,
    message: { channel: string; ts: string; blocks: unknown[]; text: string },
    actionId: string,
    value?: string,
  ): SignedRequest {
    const payload = {
      type: "block_actions",
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: this.opts.teamId ?? "T0SANDBOX" },
      api_app_id: this.opts.appId ?? "A0GHCONNECT",
      token: "deprecated-verification-token",
      container: { type: "message", message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      trigger_id: `${Date.now()}.${randomBytes(6).toString("hex")}`,
      team: { id: this.opts.teamId ?? "T0SANDBOX", domain: "sandbox" },
      channel: { id: message.channel, name: "ghes-admins" },
      message: { type: "message", ts: message.ts, text: message.text, blocks: message.blocks },
      response_url: this.opts.slack.newResponseUrl(message.channel, user),
      actions: [
        {
          type: "button",
          action_id: actionId,
          block_id: "actions",
          text: { type: "plain_text", text: actionId },
          value,
          action_ts: `${this.nowSeconds()}.${randomBytes(3).readUIntBE(0, 3)}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.sign({ body, headers: {}, channel: message.channel, user, kind: "block_actions" });
  }

  /** Re-signs a request (Slack signs each retry anew) with an optional timestamp offset. */
  sign(request: SignedRequest, options: { offsetSeconds?: number; retryNum?: number } = {}): SignedRequest {
    const timestamp = this.nowSeconds() + (options.offsetSeconds ?? 0);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": signSlackRequest(this.opts.signingSecret, timestamp, request.body),
    };
    if (options.retryNum) {
      headers["x-slack-retry-num"] = String(options.retryNum);
      headers["x-slack-retry-reason"] = "http_timeout";
    }
    return { ...request, headers };
  }

  async send(request: SignedRequest): Promise<DeliveryResult> {
    const response = await fetch(`${this.opts.botUrl}/slack/events`, { method: "POST", headers: request.headers, body: request.body });
    const raw = await response.text();
    let ack: unknown = raw;
    try {
      ack = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Plain-text acks stay as they are.
    }
    if (response.status === 200 && request.kind === "command") this.opts.slack.recordAck(request.channel, request.user, ack);
    return { status: response.status, ack, request };
  }

  /**
   * The same slash command delivered over Socket Mode (to an app connected to the sandbox) instead
   * of HTTP; the ack's payload plays the part of the HTTP ack's body.
   */
  async commandOverSocket(user: string, text: string, options: { channel?: string } = {}): Promise<DeliveryResult> {
    const request = this.commandRequest(user, text, options);
    const ack = await this.opts.slack.socketMode.deliver("slash_commands", Object.fromEntries(new URLSearchParams(request.body)));
    this.opts.slack.recordAck(request.channel, request.user, ack.payload);
    return { status: 200, ack: ack.payload, request };
  }

  /** A click delivered over Socket Mode (an `interactive` envelope). */
  async clickOverSocket(...args: Parameters<SlackDriver["clickRequest"]>): Promise<DeliveryResult> {
    const request = this.clickRequest(...args);
    const payload = JSON.parse(new URLSearchParams(request.body).get("payload") as string) as Record<string, unknown>;
    const ack = await this.opts.slack.socketMode.deliver("interactive", payload);
    return { status: 200, ack: ack.payload, request };
  }

  command(user: string, text: string, options: { channel?: string } = {}): Promise<DeliveryResult> {
    return this.send(this.commandRequest(user, text, options));
  }

  /** Slack's retry of an earlier delivery: same body, new signature, X-Slack-Retry-Num. */
  retry(request: SignedRequest, retryNum = 1): Promise<DeliveryResult> {
    return this.send(this.sign(request, { retryNum }));
  }
}
