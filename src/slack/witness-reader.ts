// Reads the admin channel back for the audit chain's witnesses (SPEC §5): the newest lines the
// bot itself posted with `ghconnect_audit` metadata. Only the bot's own messages count (its
// bot_id from auth.test), so someone pasting a look-alike line, or another app posting the same
// metadata, cannot forge a witness. Slack's history holds top-level messages only; the steps of
// an enable or a disconnect sit in their card's thread, read with conversations.replies.
import type { WebClient } from "@slack/web-api";
import type { WitnessSource } from "../core/ports.js";
import { networkAdvice, proxyRefusedDetail } from "../core/preflight.js";
import { WITNESS_EVENT_TYPE, type Witness, type WitnessReading } from "../core/witness.js";
import { classifyNetworkError } from "../net-errors.js";

interface HistoryMessage {
  ts?: string;
  bot_id?: string;
  reply_count?: number;
  latest_reply?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

export interface WitnessReaderOptions {
  /** Messages per history page (Slack's default is 100, its maximum 999; it recommends at most 200). */
  pageSize?: number;
  /** A safety bound on the pages read (default 500: 100,000 messages at 200 a page). */
  maxPages?: number;
  /** The proxy Slack's Web API is reached through, if any (HTTPS_PROXY unless NO_PROXY exempts it). */
  proxy?: string;
}

export class SlackWitnessReader implements WitnessSource {
  constructor(
    private readonly client: WebClient,
    private readonly channel: string,
    private readonly options: WitnessReaderOptions = {},
  ) {}

  async read(): Promise<WitnessReading> {
    try {
      const auth = await this.client.auth.test();
      const botId = auth.bot_id;
      if (!botId) return { readable: false, problem: "the token is not a bot token", fix: "Set SLACK_BOT_TOKEN to the app's xoxb- token." };
      return await this.readAs(botId);
    } catch (error) {
      return unreadable(error, this.channel, new URL(this.client.slackApiUrl).host, this.options.proxy);
    }
  }

  /**
   * Newest first, through the channel's whole history. Stopping at the first page that holds a
   * witness is not enough: anyone in the channel can push the bot's lines a thousand messages
   * back, and an older card's thread can hold a newer witness than any top-level line (an enable
   * that completes after the channel moved on). So every page is read, and a bot card's thread is
   * read whenever its latest reply is newer than the newest witness found so far (only such a
   * thread can hold a newer one).
   */
  private async readAs(botId: string): Promise<WitnessReading> {
    const seen: Witness[] = [];
    const ours = (m: HistoryMessage) => (m.bot_id === botId ? witnessOf(m) : undefined);
    let newestTs = 0;
    let cursor: string | undefined;
    for (let page = 0; page < (this.options.maxPages ?? 500); page++) {
      const history = await this.client.conversations.history({
        channel: this.channel,
        limit: this.options.pageSize ?? 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      const messages = (history.messages ?? []) as HistoryMessage[];
      for (const m of messages) {
        const w = ours(m);
        if (!w) continue;
        seen.push(w);
        newestTs = Math.max(newestTs, Number(m.ts ?? 0));
      }
      for (const parent of messages) {
        if (parent.bot_id !== botId || !parent.reply_count || !parent.ts) continue;
        if (Number(parent.latest_reply ?? parent.ts) <= newestTs) continue;
        for (const reply of await this.threadWitnesses(parent.ts, ours)) {
          seen.push(reply.w);
          newestTs = Math.max(newestTs, Number(reply.ts));
        }
      }
      cursor = history.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    const newest = seen.reduce<Witness | undefined>((max, w) => (!max || w.seq > max.seq ? w : max), undefined);
    return { readable: true, newest, seen };
  }

  private async threadWitnesses(ts: string, ours: (m: HistoryMessage) => Witness | undefined): Promise<Array<{ w: Witness; ts: string }>> {
    const out: Array<{ w: Witness; ts: string }> = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const replies = await this.client.conversations.replies({
        channel: this.channel,
        ts,
        limit: 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      for (const m of (replies.messages ?? []) as HistoryMessage[]) {
        const w = m.ts !== ts ? ours(m) : undefined;
        if (w) out.push({ w, ts: m.ts ?? "0" });
      }
      cursor = replies.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return out;
  }
}

function witnessOf(m: HistoryMessage): Witness | undefined {
  if (m.metadata?.event_type !== WITNESS_EVENT_TYPE) return undefined;
  const { seq, hash } = m.metadata.event_payload ?? {};
  return typeof seq === "number" && Number.isInteger(seq) && typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash)
    ? { seq, hash }
    : undefined;
}

/** Slack's refusal, as a problem and the fix an operator can apply. */
function unreadable(error: unknown, channel: string, apiHost: string, proxy?: string): WitnessReading {
  const data = (error as { data?: { error?: string; needed?: string } }).data;
  switch (data?.error) {
    case "missing_scope":
      return {
        readable: false,
        problem: `the bot token lacks ${data.needed ?? "channels:history"}`,
        fix: "Add channels:history (groups:history for a private channel) to the bot scopes in manifest.yml and reinstall the app.",
      };
    case "not_in_channel":
      return {
        readable: false,
        problem: `the bot is not a member of <#${channel}>`,
        fix: `Invite it: \`/invite @ghconnect\` in <#${channel}>.`,
      };
    case "channel_not_found":
      return {
        readable: false,
        problem: `Slack knows no channel ${channel} the bot can see`,
        fix: "Check SLACK_ADMIN_CHANNEL (a channel id like C0123ABCD) and invite the bot there.",
      };
    default: {
      if (data?.error)
        return { readable: false, problem: data.error, fix: "Check SLACK_BOT_TOKEN, SLACK_API_URL and that Slack is reachable." };
      const status = (error as { statusCode?: number }).statusCode;
      if (typeof status === "number")
        return {
          readable: false,
          problem: `${apiHost} answered HTTP ${status}`,
          fix: "Slack may be having an incident (https://slack-status.com); run the check again later.",
        };
      // No answer from Slack at all: name the host and what failed, like the other checks do.
      const failure = classifyNetworkError(error);
      if (proxy && failure.kind === "refused")
        return {
          readable: false,
          problem: `cannot reach ${apiHost}: ${proxyRefusedDetail(proxy, failure.detail)}`,
          fix: networkAdvice({ kind: failure.kind, host: apiHost, proxy }),
        };
      return {
        readable: false,
        problem: `cannot reach ${apiHost}: ${failure.detail}`,
        fix: "Check that this host reaches Slack (DNS, firewall), or set HTTPS_PROXY if it reaches the internet only through a proxy.",
      };
    }
  }
}
