// Small network pieces for reliability tests: a load balancer in front of bot replicas (skipping
// dead ones, as a health-checked balancer would) and a TCP forwarder that can cut a database off.
import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";

export interface Balancer {
  url: string;
  backends: string[];
  stop(): Promise<void>;
}

/** Backends can join later: push their URLs onto the returned `backends`. */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const order = backends.map((_, i) => backends[(next + i) % backends.length] as string);
      next++;
      const attempt = (i: number) => {
        const backend = order[i];
        if (!backend) return void res.writeHead(502).end("no live backend");
        const upstream = httpRequest(`${backend}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on("error", () => attempt(i + 1));
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backends,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Forwarder {
  port: number;
  up(): Promise<void>;
  down(): Promise<void>;
}

export async function startForwarder(targetPort: number, targetHost = "127.0.0.1"): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  let server: ReturnType<typeof createTcpServer> | undefined;
  let port = 0;
  const up = async () => {
    server = createTcpServer((client) => {
      const upstream = connect(targetPort, targetHost);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => (server as ReturnType<typeof createTcpServer>).listen(port, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  };
  await up();
  return {
    get port() {
      return port;
    },
    up,
    async down() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

export interface BlackHole {
  url: string;
  host: string;
  /** Connections accepted and never answered, still open. */
  readonly held: number;
  /** Resolves when the next connection arrives. */
  nextConnection(): Promise<void>;
  stop(): Promise<void>;
}

/** A server that accepts connections and never answers: a firewall that drops replies, a hung host. */
export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    get held() {
      return sockets.size;
    },
    nextConnection: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
