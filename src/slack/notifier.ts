// How core's messages reach Slack: chat.postMessage / chat.update for the admin channel's cards,
// and a command's or click's response_url for private replies.
import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import type { Message } from "../core/message.js";
import type { FetchLike, Notifier } from "../core/ports.js";
import { WITNESS_EVENT_TYPE, type Witness } from "../core/witness.js";
import { responseUrlRule } from "./payload.js";
import { renderMessage } from "./render.js";

export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: WebClient,
    readonly adminChannel: string,
    private readonly fetch: FetchLike,
    private readonly log: Logger,
    /** The response_url rule (slack/payload.ts); by default Slack's hooks host and the client's API origin. */
    private readonly responseUrlAllowed: (url: string) => boolean = responseUrlRule(client.slackApiUrl),
  ) {}

  post(channel: string, message: Message, threadTs?: string): Promise<{ channel: string; ts: string } | undefined> {
    return this.send({ channel, message, threadTs });
  }

  async postWitnessed(line: { channel: string; message: Message; threadTs?: string; witness: Witness }): Promise<void> {
    // Machine-readable copy of the witness; conversations.history returns it with include_all_metadata.
    const metadata = { event_type: WITNESS_EVENT_TYPE, event_payload: { seq: line.witness.seq, hash: line.witness.hash } };
    await this.send({ ...line, metadata });
  }

  private async send(params: {
    channel: string;
    message: Message;
    threadTs?: string;
    metadata?: { event_type: string; event_payload: Record<string, number | string> };
  }): Promise<{ channel: string; ts: string } | undefined> {
    const { channel, message, threadTs, metadata } = params;
    try {
      const result = await this.client.chat.postMessage({
        channel,
        ...renderMessage(message),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(metadata ? { metadata } : {}),
        unfurl_links: false,
      });
      return result.ts ? { channel: String(result.channel ?? channel), ts: result.ts } : undefined;
    } catch (error) {
      // The flow goes on (the audit trail has it); the operator sees why Slack refused.
      this.log.error({ err: error, channel }, "could not post to Slack");
      return undefined;
    }
  }

  async update(card: { channel: string; ts: string }, message: Message): Promise<boolean> {
    try {
      await this.client.chat.update({ channel: card.channel, ts: card.ts, ...renderMessage(message) });
      return true;
    } catch (error) {
      this.log.error({ err: error, channel: card.channel }, "could not update a Slack message");
      return false;
    }
  }

  async reply(responseUrl: string, message: Message, options: { replaceOriginal?: boolean } = {}): Promise<boolean> {
    // Checked again here, not only at the gate: Socket Mode payloads and stored operations'
    // response_urls never pass the gate, and the bot must POST nowhere but to Slack.
    if (!this.responseUrlAllowed(responseUrl)) {
      this.log.warn({ host: hostOf(responseUrl) }, "refused to reply to a response_url outside Slack's hooks host");
      return false;
    }
    try {
      const response = await this.fetch(responseUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ response_type: "ephemeral", replace_original: options.replaceOriginal ?? false, ...renderMessage(message) }),
      });
      if (!response.ok) this.log.warn({ status: response.status }, "Slack refused a response_url reply");
      await response.arrayBuffer().catch(() => undefined);
      return response.ok;
    } catch (error) {
      this.log.warn({ err: error }, "could not reply through response_url");
      return false;
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(unparsable)";
  }
}
