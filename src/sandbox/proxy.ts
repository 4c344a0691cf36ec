// An outbound HTTP proxy stand-in (like a corporate Squid): answers CONNECT by tunnelling to
// the target, or refuses it with 403 for hosts it does not allow. Records every target.
// With `names`, it is also the network's DNS for the sandbox: a GitHub host name (api.acme.ghe.com)
// is tunnelled to the stand-in on 127.0.0.1 that plays it, so the app uses the real host names
// and the real proxy path; a name it does not know gets 503, as Squid answers a name that does
// not resolve, and nothing is looked up in the real DNS.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";

export interface SandboxProxy {
  url: string;
  /** host:port of every CONNECT or proxied request, in order. */
  seen: string[];
  /** Hosts (host:port) refused with 403; everything else is allowed. */
  refuse: Set<string>;
  refuseAll: boolean;
  stop(): Promise<void>;
}

/** What the proxy connects to for a target host:port: a mapped name's stand-in, an address as is. */
function upstreamOf(target: string, names?: ReadonlyMap<string, string>): string | undefined {
  if (!names) return target;
  const { hostname } = new URL(`http://${target}`);
  const mapped = names.get(hostname.toLowerCase());
  if (mapped) return mapped;
  return /^[\d.]+$|^\[|^localhost$/.test(hostname) ? target : undefined;
}

/** `names`: host name → 127.0.0.1:port of the stand-in that plays it (any port asked for). */
export async function startProxy(options: { names?: ReadonlyMap<string, string> } = {}): Promise<SandboxProxy> {
  const { names } = options;
  const state = { seen: [] as string[], refuse: new Set<string>(), refuseAll: false };
  const server: Server = createServer((req, res) => {
    // Absolute-form requests (proxying without a tunnel).
    const target = new URL(req.url ?? "");
    state.seen.push(target.host);
    if (state.refuseAll || state.refuse.has(target.host)) return void res.writeHead(403).end("Forbidden by proxy policy");
    const to = upstreamOf(target.host, names);
    if (!to) return void res.writeHead(503).end("Unable to determine IP address from host name");
    const upstream = httpRequest(
      new URL(`${target.pathname}${target.search}`, `http://${to}`),
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connect", (req, socket, head) => {
    const target = req.url ?? "";
    state.seen.push(target);
    if (state.refuseAll || state.refuse.has(target)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const to = upstreamOf(target, names);
    if (!to) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const [host, port] = to.split(":");
    const upstream = connect(Number(port), host as string, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    refuse: state.refuse,
    get refuseAll() {
      return state.refuseAll;
    },
    set refuseAll(v: boolean) {
      state.refuseAll = v;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
