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
  channels: Array<{ id: string; name: string }>;
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
  readonly messages: PostedMessage[] = [];
  private readonly responseUrls = new Map<string, ResponseUrl>();
  private readonly router = new SandboxRouter();
  private server?: Server;
  private tsCounter = 0;
  url = "";
  readonly botUserId = "UBOT0000001";
  /** The bot token's scopes, as Slack reports them in x-oauth-scopes (tests may remove one). */
  scopes = ["commands", "chat:write"];
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
    this.router.on("POST", "/api/:method", (req) => this.api(req.params.method as string, req.body, req.headers.authorization));
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

  private respond(id: string, body: Record<string, unknown>): SandboxResponse {
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
        });
      case "chat.postMessage":
      case "chat.postEphemeral": {
        if (!channelKnown(args.channel)) return record(false, {}, "channel_not_found");
        if (!args.text && !args.blocks) return record(false, {}, "no_text");
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

  /** Messages a given user can see: channel posts plus their own private ones. */
  visibleTo(user: string): PostedMessage[] {
    return this.messages.filter((m) => m.user === undefined || m.user === user);
  }
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
