// Shared plumbing for the stand-ins: a tiny router over node:http and body parsing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SandboxRequest {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  rawBody: string;
  /** Form or JSON body, whichever the content type says. */
  body: Record<string, unknown>;
  /** Resolves when the connection closes before the answer was sent (the client went away). */
  closed: Promise<void>;
}

export interface SandboxResponse {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  text?: string;
  html?: string;
  redirect?: string;
}

export type SandboxHandler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: SandboxHandler;
}

export class SandboxRouter {
  private readonly routes: CompiledRoute[] = [];
  /** Every request received, for tests that count calls. */
  readonly received: Array<{ method: string; path: string; at: number }> = [];

  on(method: string, path: string, handler: SandboxHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)(\\\*)?/g, (_m, key: string, star?: string) => {
        keys.push(key);
        return star ? "(.+)" : "([^/]+)";
      })}$`,
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    before?: (r: SandboxRequest) => SandboxResponse | undefined | Promise<SandboxResponse | undefined>,
  ): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandbox.local");
    const rawBody = await readBody(req);
    const closed = new Promise<void>((resolve) => res.once("close", () => !res.writableFinished && resolve()));
    const request: SandboxRequest = {
      method: req.method ?? "GET",
      url,
      params: {},
      headers: req.headers,
      rawBody,
      body: parseBody(rawBody, req.headers["content-type"]),
      closed,
    };
    this.received.push({ method: request.method, path: url.pathname, at: Date.now() });
    let response: SandboxResponse | undefined = await before?.(request);
    if (!response) {
      const route = this.routes.find((r) => r.method === request.method && r.pattern.test(url.pathname));
      if (route) {
        const match = route.pattern.exec(url.pathname) as RegExpExecArray;
        route.keys.forEach((k, i) => {
          request.params[k] = decodeURIComponent(match[i + 1] ?? "");
        });
        try {
          response = await route.handler(request);
        } catch (error) {
          response = { status: 500, json: { message: `sandbox error: ${(error as Error).message}` } };
        }
      } else {
        response = { status: 404, json: { message: "Not Found" } };
      }
    }
    send(res, response);
  }
}

function send(res: ServerResponse, r: SandboxResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let body = "";
  if (r.redirect) {
    headers.location = r.redirect;
  } else if (r.html !== undefined) {
    headers["content-type"] ??= "text/html; charset=utf-8";
    body = r.html;
  } else if (r.text !== undefined) {
    headers["content-type"] ??= "text/plain; charset=utf-8";
    body = r.text;
  } else if (r.json !== undefined) {
    headers["content-type"] ??= "application/json; charset=utf-8";
    body = JSON.stringify(r.json);
  }
  res.writeHead(r.status ?? (r.redirect ? 302 : 200), headers);
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes("application/json")) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port = 0,
): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  const bound = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${bound}`, port: bound };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
