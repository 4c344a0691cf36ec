// The Slack stand-in: the Web API methods ghconnect calls (recording every call, checking the
// bot token, answering in Slack's shapes) and the response_url endpoint of slash commands.
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { closeServer, listen, type SandboxResponse, SandboxRouter } from "../http.js";
import { blockKitProblems } from "./blocks.js";
import { SocketModeStandIn } from "./socket-mode.js";

export interface SlackUser {
  id: string;
  name: string;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** Set for ephemeral messages and response_url replies: who sees it. */
  user?: string;
  via: "chat.postMessage" | "chat.postEphemeral" | "response_url" | "ack";
  updates: number;
  /** Set for replies in a thread: the parent message's ts. */
  threadTs?: string;
  /** Who posted it: the bot user for the bot token's posts, a person for `postAs`. */
  author?: string;
  /** Set when the bot token posted it: the bot's id, as Slack stamps bot messages. */
  botId?: string;
  /** Message metadata (chat.postMessage `metadata`), returned by history with include_all_metadata. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface SlackSandboxOptions {
  botToken: string;
  /** The app-level token (xapp-…) Socket Mode connects with. */
  appToken?: string;
  teamId?: string;
  users: SlackUser[];
  channels: Array<{ id: string; name: string; isPrivate?: boolean }>;
  now?: () => number;
}

interface ResponseUrl {
  id: string;
  channel: string;
  user: string;
  createdAt: number;
  uses: number;
}

export class SlackSandbox {
  readonly calls: ApiCall[] = [];
  private readonly faults: Array<{ method: string; error: string; remaining: number }> = [];
  readonly messages: PostedMessage[] = [];
  /** Web API methods that answer only once their promise settles: Slack being slow, for as long as a test needs. */
  readonly slowMethods = new Map<string, Promise<unknown>>();
  private readonly responseUrls = new Map<string, ResponseUrl>();
  private readonly router = new SandboxRouter();
  private server?: Server;
  private tsCounter = 0;
  url = "";
  readonly botUserId = "UBOT0000001";
  /** The bot token's scopes, as Slack reports them in x-oauth-scopes (tests may remove one). */
  scopes = ["commands", "chat:write", "channels:history", "groups:history"];
  /** Channels the bot has been removed from (tests): posting and reading there fail with not_in_channel. */
  readonly botNotIn = new Set<string>();
  readonly botId = "BBOT0000001";
  /** Socket Mode: apps.connections.open and the WebSocket it hands out. */
  readonly socketMode: SocketModeStandIn;
  /**
   * Set to an HTTP status (503…) to play a Slack incident: every Web API call gets that error page
   * instead of JSON, as Slack's edge answers while the API is down.
   */
  outage: number | undefined;

  constructor(readonly options: SlackSandboxOptions) {
    this.socketMode = new SocketModeStandIn(options.appToken ?? `xapp-1-A0GHCONNECT-${randomBytes(8).toString("hex")}`);
    this.router.on("POST", "/api/:method", async (req) => {
      const method = req.params.method as string;
      await this.slowMethods.get(method)?.catch(() => undefined);
      return this.api(method, req.body, req.headers.authorization);
    });
    this.router.on("POST", "/response/:id", (req) => this.respond(req.params.id as string, req.body));
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async start(port = 0): Promise<this> {
    const { server, url } = await listen((req, res) => void this.router.handle(req, res), port);
    this.server = server;
    this.url = url;
    this.socketMode.attach(server);
    return this;
  }

  async stop(): Promise<void> {
    await this.socketMode.close();
    if (this.server) await closeServer(this.server);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private nextTs(): string {
    this.tsCounter++;
    return `${Math.floor(this.now() / 1000)}.${String(this.tsCounter).padStart(6, "0")}`;
  }

  /** A fresh response_url for a slash command or an interaction, as Slack issues one. */
  newResponseUrl(channel: string, user: string): string {
    const id = randomBytes(12).toString("hex");
    this.responseUrls.set(id, { id, channel, user, createdAt: this.now(), uses: 0 });
    return `${this.url}/response/${id}`;
  }

  /** Records what the bot answered inside the HTTP ack of a command, like Slack shows it. */
  recordAck(channel: string, user: string, body: unknown): PostedMessage | undefined {
    if (!body || typeof body !== "object") return undefined;
    const b = body as Record<string, unknown>;
    if (typeof b.text !== "string" && !Array.isArray(b.blocks)) return undefined;
    const message: PostedMessage = {
      channel,
      ts: this.nextTs(),
      text: String(b.text ?? ""),
      blocks: (b.blocks as unknown[]) ?? [],
      user: b.response_type === "in_channel" ? undefined : user,
      via: "ack",
      updates: 0,
    };
    this.messages.push(message);
    return message;
  }

  /**
   * Fault injection: the next `times` calls of a Web API method (or "response_url" for replies)
   * fail with `error`, as Slack answers when a message was deleted or it is degraded.
   */
  fail(method: string, error: string, times = 1): void {
    this.faults.push({ method, error, remaining: times });
  }

  private takeFault(method: string): string | undefined {
    const fault = this.faults.find((f) => f.method === method && f.remaining > 0);
    if (fault) fault.remaining--;
    return fault?.error;
  }

  private respond(id: string, body: Record<string, unknown>): SandboxResponse {
    const fault = this.takeFault("response_url");
    if (fault) return { status: 404, text: fault };
    const entry = this.responseUrls.get(id);
    if (!entry) return { status: 404, text: "no_such_url" };
    if (this.now() - entry.createdAt > 30 * 60_000) return { status: 404, text: "expired_url" };
    if (entry.uses >= 5) return { status: 404, text: "used_url" };
    const problems = blockKitProblems(body.blocks);
    if (problems.length > 0) return { status: 400, text: `invalid_blocks: ${problems.join("; ")}` };
    entry.uses++;
    const ephemeral = body.response_type !== "in_channel";
    const replace = body.replace_original === true || body.replace_original === "true";
    const previous = [...this.messages]
      .reverse()
      .find((m) => m.via === "response_url" && m.channel === entry.channel && m.user === (ephemeral ? entry.user : undefined));
    if (replace && previous) {
      previous.text = String(body.text ?? "");
      previous.blocks = (body.blocks as unknown[]) ?? [];
      previous.updates++;
    } else {
      this.messages.push({
        channel: entry.channel,
        ts: this.nextTs(),
        text: String(body.text ?? ""),
        blocks: (body.blocks as unknown[]) ?? [],
        user: ephemeral ? entry.user : undefined,
        via: "response_url",
        updates: 0,
      });
    }
    return { json: { ok: true } };
  }

  private api(method: string, args: Record<string, unknown>, authorization: string | undefined): SandboxResponse {
    if (this.outage) {
      this.calls.push({ method, args, ok: false, error: `http_${this.outage}` });
      return { status: this.outage, html: "<html><body>Slack is having trouble right now.</body></html>" };
    }
    const record = (ok: boolean, payload: Record<string, unknown>, error?: string): SandboxResponse => {
      this.calls.push({ method, args, ok, error });
      // Slack reports the token's scopes in every Web API response.
      return {
        headers: { "x-oauth-scopes": this.scopes.join(",") },
        json: ok ? { ok: true, ...payload } : { ok: false, error, ...payload },
      };
    };
    const token = authorization?.replace(/^Bearer\s+/i, "") ?? (args.token as string | undefined);
    if (method === "apps.connections.open") {
      // The one method called with the app-level token, not the bot token.
      const opened = this.socketMode.open(this.url, token);
      return opened.ok ? record(true, { url: opened.url }) : record(false, {}, opened.error);
    }
    if (!token) return record(false, {}, "not_authed");
    const fault = this.takeFault(method);
    if (fault) return record(false, {}, fault);
    if (token !== this.options.botToken) return record(false, {}, "invalid_auth");
    const channelKnown = (c: unknown) => typeof c === "string" && (this.options.channels.some((ch) => ch.id === c) || /^D/.test(c));
    switch (method) {
      case "auth.test":
        return record(true, {
          url: "https://sandbox.slack.local/",
          team: "Sandbox",
          user: "ghconnect",
          team_id: this.options.teamId ?? "T0SANDBOX",
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        });
      case "chat.postMessage":
      case "chat.postEphemeral": {
        if (!channelKnown(args.channel)) return record(false, {}, "channel_not_found");
        if (this.botNotIn.has(String(args.channel))) return record(false, {}, "not_in_channel");
        if (!args.text && !args.blocks) return record(false, {}, "no_text");
        const metadata = parseMetadata(args.metadata);
        if (metadata === "invalid") return record(false, {}, "invalid_metadata_format");
        const problems = blockKitProblems(args.blocks);
        if (problems.length > 0) return record(false, { errors: problems }, "invalid_blocks");
        if (method === "chat.postEphemeral" && !this.options.users.some((u) => u.id === args.user))
          return record(false, {}, "user_not_in_channel");
        const ts = this.nextTs();
        this.messages.push({
          channel: String(args.channel),
          ts,
          text: String(args.text ?? ""),
          blocks: parseBlocks(args.blocks),
          user: method === "chat.postEphemeral" ? String(args.user) : undefined,
          via: method,
          updates: 0,
          threadTs: typeof args.thread_ts === "string" ? args.thread_ts : undefined,
          ...(method === "chat.postMessage" ? { author: this.botUserId, botId: this.botId } : {}),
          ...(metadata && method === "chat.postMessage" ? { metadata } : {}),
        });
        return method === "chat.postMessage"
          ? record(true, { channel: args.channel, ts, message: { text: args.text, ts } })
          : record(true, { message_ts: ts });
      }
      case "chat.update": {
        const message = this.messages.find((m) => m.channel === args.channel && m.ts === args.ts && m.via === "chat.postMessage");
        if (!message) return record(false, {}, "message_not_found");
        const problems = blockKitProblems(args.blocks);
        if (problems.length > 0) return record(false, { errors: problems }, "invalid_blocks");
        message.text = String(args.text ?? message.text);
        if (args.blocks !== undefined) message.blocks = parseBlocks(args.blocks);
        message.updates++;
        return record(true, { channel: args.channel, ts: args.ts, text: message.text });
      }
      case "conversations.info": {
        const channel = this.options.channels.find((c) => c.id === args.channel);
        return channel
          ? record(true, { channel: { id: channel.id, name: channel.name, is_member: true } })
          : record(false, {}, "channel_not_found");
      }
      case "conversations.history":
      case "conversations.replies": {
        const { payload, error, extra } = this.history(method, args);
        return payload ? record(true, payload) : record(false, extra ?? {}, error);
      }
      case "users.info": {
        const user = this.options.users.find((u) => u.id === args.user);
        return user ? record(true, { user: { id: user.id, name: user.name, real_name: user.name } }) : record(false, {}, "user_not_found");
      }
      case "views.open":
        return args.trigger_id
          ? record(true, { view: { id: `V${this.nextTs().replace(".", "")}` } })
          : record(false, {}, "invalid_trigger_id");
      default:
        return record(false, {}, "unknown_method");
    }
  }

  /** A person (or another app, with `botId`) posts in a channel, as the Slack client would. */
  postAs(
    author: string,
    channel: string,
    text: string,
    extra: { threadTs?: string; botId?: string; metadata?: PostedMessage["metadata"] } = {},
  ): PostedMessage {
    const message: PostedMessage = { channel, ts: this.nextTs(), text, blocks: [], via: "chat.postMessage", updates: 0, author, ...extra };
    this.messages.push(message);
    return message;
  }

  /**
   * conversations.history / conversations.replies as Slack documents them: newest first (replies:
   * parent first, then oldest first), `limit` (default 100, at most 999; 1000 for replies),
   * `cursor` → `response_metadata.next_cursor`, `oldest`/`latest` (exclusive unless `inclusive`),
   * metadata only with `include_all_metadata`. History lists top-level messages and threads'
   * parents (with reply_count and latest_reply), never the replies themselves.
   */
  private history(
    method: string,
    args: Record<string, unknown>,
  ): { payload?: Record<string, unknown>; error?: string; extra?: Record<string, unknown> } {
    const channel = this.options.channels.find((c) => c.id === args.channel);
    if (!channel) return { error: "channel_not_found" };
    const needed = channel.isPrivate ? "groups:history" : "channels:history";
    if (!this.scopes.includes(needed)) return { error: "missing_scope", extra: { needed, provided: this.scopes.join(",") } };
    if (this.botNotIn.has(channel.id)) return { error: "not_in_channel" };
    const inclusive = args.inclusive === true || args.inclusive === "true" || args.inclusive === "1";
    const oldest = Number(args.oldest ?? 0);
    const latest = args.latest === undefined ? Number.POSITIVE_INFINITY : Number(args.latest);
    const inRange = (ts: string) => {
      const t = Number(ts);
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    };
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === "true" || args.include_all_metadata === "1";
    const visible = this.messages.filter((m) => m.channel === channel.id && m.user === undefined && m.via !== "ack");
    const shape = (m: PostedMessage) => {
      const replies = visible.filter((r) => r.threadTs === m.ts);
      return {
        type: "message",
        ts: m.ts,
        text: m.text,
        ...(m.blocks.length ? { blocks: m.blocks } : {}),
        user: m.author ?? this.botUserId,
        ...((m.botId ?? (m.author ? undefined : this.botId)) ? { bot_id: m.botId ?? this.botId } : {}),
        ...(m.threadTs ? { thread_ts: m.threadTs } : replies.length ? { thread_ts: m.ts } : {}),
        ...(replies.length ? { reply_count: replies.length, latest_reply: replies[replies.length - 1]?.ts } : {}),
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      };
    };
    let list: PostedMessage[];
    let max: number;
    if (method === "conversations.history") {
      list = visible.filter((m) => !m.threadTs && inRange(m.ts)).reverse();
      max = 999;
    } else {
      const ts = String(args.ts ?? "");
      const parent = visible.find((m) => m.ts === ts && !m.threadTs);
      if (!parent) return { error: "thread_not_found" };
      list = [parent, ...visible.filter((m) => m.threadTs === ts && inRange(m.ts))];
      max = 1000;
    }
    const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), max);
    const start =
      typeof args.cursor === "string" && args.cursor
        ? Number(
            Buffer.from(args.cursor, "base64")
              .toString()
              .replace(/^next_ts:/, ""),
          )
        : 0;
    if (Number.isNaN(start)) return { error: "invalid_cursor" };
    const page = list.slice(start, start + limit);
    const more = start + limit < list.length;
    return {
      payload: {
        messages: page.map(shape),
        has_more: more,
        ...(method === "conversations.history" ? { pin_count: 0 } : {}),
        response_metadata: { next_cursor: more ? Buffer.from(`next_ts:${start + limit}`).toString("base64") : "" },
      },
    };
  }

  /** Messages a given user can see: channel posts plus their own private ones. */
  visibleTo(user: string): PostedMessage[] {
    return this.messages.filter((m) => m.user === undefined || m.user === user);
  }
}

/** chat.postMessage's `metadata`: {event_type, event_payload}, as an object or its JSON (form posts). */
function parseMetadata(raw: unknown): PostedMessage["metadata"] | "invalid" | undefined {
  if (raw === undefined || raw === "") return undefined;
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return "invalid";
    }
  }
  const m = value as { event_type?: unknown; event_payload?: unknown };
  if (!m || typeof m.event_type !== "string" || !m.event_payload || typeof m.event_payload !== "object") return "invalid";
  return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
}

function parseBlocks(blocks: unknown): unknown[] {
  if (typeof blocks === "string") {
    try {
      return JSON.parse(blocks) as unknown[];
    } catch {
      return [];
    }
  }
  return (blocks as unknown[]) ?? [];
}
