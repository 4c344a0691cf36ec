// Slack's Socket Mode, as the stand-in plays it (https://api.slack.com/apis/socket-mode):
// `apps.connections.open`, called with the app-level token (xapp-…), returns a one-use WebSocket
// URL; on connecting, Slack sends `hello`; each slash command or interaction then arrives in an
// envelope ({envelope_id, type, payload, accepts_response_payload}), and the app acknowledges it
// by sending back {envelope_id, payload?} — the payload is what an HTTP ack's body would be.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";

export const SOCKET_MODE_PATH = "/link/";

export type EnvelopeType = "slash_commands" | "interactive";

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}

export class SocketModeStandIn {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly waiting = new Map<string, (ack: SocketAck) => void>();
  /** Every ack received, in order. */
  readonly acks: SocketAck[] = [];
  /** When set, WebSocket upgrades are refused (a firewall or proxy that blocks wss:// to Slack). */
  refuseSockets = false;

  constructor(readonly appToken: string) {}

  /** `apps.connections.open`: a one-use URL, or Slack's error for a token that is not the app's. */
  open(baseUrl: string, token: string | undefined): { ok: true; url: string } | { ok: false; error: string } {
    if (!token) return { ok: false, error: "not_authed" };
    if (!token.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
    if (token !== this.appToken) return { ok: false, error: "invalid_auth" };
    const ticket = randomBytes(12).toString("hex");
    this.tickets.add(ticket);
    return { ok: true, url: `${baseUrl.replace(/^http/, "ws")}${SOCKET_MODE_PATH}?ticket=${ticket}&app_id=A0GHCONNECT` };
  }

  /** Serves the WebSocket upgrades of `server` on SOCKET_MODE_PATH. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", "http://sandbox.local");
      const ticket = url.searchParams.get("ticket") ?? "";
      if (this.refuseSockets) {
        socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
        return;
      }
      if (url.pathname !== SOCKET_MODE_PATH || !this.tickets.delete(ticket)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
    });
  }

  private connected(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on("close", () => this.sockets.delete(ws));
    ws.on("message", (data) => {
      let ack: SocketAck;
      try {
        ack = JSON.parse(String(data)) as SocketAck;
      } catch {
        return;
      }
      if (typeof ack.envelope_id !== "string") return;
      this.acks.push(ack);
      this.waiting.get(ack.envelope_id)?.(ack);
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.sockets.size,
        debug_info: { host: "applink-sandbox", build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: "A0GHCONNECT" },
      }),
    );
  }

  /** How many apps are connected. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Sends an envelope to a connected app (Slack picks one) and resolves with its ack; rejects when
   * none is connected or no ack comes within Slack's 3 seconds.
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs = 3000): Promise<SocketAck> {
    const ws = [...this.sockets][0];
    if (!ws) return Promise.reject(new Error("no app is connected over Socket Mode"));
    const envelopeId = `${randomBytes(4).toString("hex")}-${randomBytes(2).toString("hex")}-${randomBytes(6).toString("hex")}`;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`no ack for the ${type} envelope within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.waiting.delete(envelopeId);
        resolve(ack);
      });
      ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type === "slash_commands" }));
    });
  }

  /** Asks every connected app to reconnect, as Slack does before recycling a server. */
  disconnectAll(reason = "refresh_requested"): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-sandbox" } }));
  }

  /** Cuts every connection without a word, as a network failure does. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
