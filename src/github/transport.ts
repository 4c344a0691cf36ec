// Outbound HTTP for GitHub (and Slack): Node's fetch does not read HTTPS_PROXY, so every client
// gets this fetch, whose undici dispatcher sends requests through the proxy unless NO_PROXY
// exempts the host. A timeout cuts a hanging server.
import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from "undici";

export type FetchLike = typeof globalThis.fetch;

export interface TransportOptions {
  httpsProxy?: string;
  noProxy?: string;
  /** Whole-request budget; GitHub answers in well under this when healthy. */
  timeoutMs?: number;
  /** Told of every answer (status) or failure ("error"), for metrics. */
  onResponse?: (host: string, status: number | "error") => void;
}

export function createDispatcher(options: TransportOptions): Dispatcher {
  const connect = { timeout: Math.min(options.timeoutMs ?? 10_000, 10_000) };
  if (!options.httpsProxy) return new Agent({ connect });
  // GitHub is https; the proxy is used for http URLs too, so a stand-in on http is proxied alike.
  return new EnvHttpProxyAgent({ httpProxy: options.httpsProxy, httpsProxy: options.httpsProxy, noProxy: options.noProxy ?? "", connect });
}

export function createFetch(options: TransportOptions): FetchLike {
  const dispatcher = createDispatcher(options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const proxied = async (input: Parameters<FetchLike>[0], init: Parameters<FetchLike>[1] = {}) => {
    // A timer cleared as soon as the answer arrives: AbortSignal.timeout() would keep every
    // request, and what it references, alive for the whole timeout (a leak under load).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
    timer.unref();
    const outer = init.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer) {
      if (outer.aborted) forward();
      else outer.addEventListener("abort", forward, { once: true });
    }
    const host = options.onResponse ? hostOfInput(input) : "";
    try {
      // undici's fetch is the same WHATWG fetch as Node's, with our dispatcher.
      const response = await undiciFetch(
        input as Parameters<typeof undiciFetch>[0],
        { ...(init as object), signal: controller.signal, dispatcher } as Parameters<typeof undiciFetch>[1],
      );
      options.onResponse?.(host, response.status);
      return response;
    } catch (error) {
      options.onResponse?.(host, "error");
      throw error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    }
  };
  return proxied as unknown as FetchLike;
}

function hostOfInput(input: unknown): string {
  try {
    return new URL(typeof input === "string" ? input : input instanceof URL ? input.href : (input as { url: string }).url).host;
  } catch {
    return "unknown";
  }
}

export type Reachability = "ok" | "dns" | "tls" | "proxy_refused" | "proxy_unreachable" | "timeout" | "refused" | "http_error";

/** Turns a network failure into what an admin can act on. */
export function classifyNetworkError(error: unknown): { kind: Reachability; detail: string } {
  const chain: Array<{ name?: string; code?: string; message?: string }> = [];
  let current: unknown = error;
  for (let i = 0; current && i < 6; i++) {
    chain.push(current as { code?: string; message?: string });
    current = (current as { cause?: unknown }).cause;
  }
  const codes = chain.map((e) => e.code ?? "").join(" ");
  const messages = chain.map((e) => e.message ?? "").join(" | ");
  const proxyStatus = /Proxy response \((\d{3})\)/.exec(messages);
  // A proxy answers 502/503/504 to CONNECT when it cannot resolve or reach the host itself (as
  // Squid does for a name that does not exist): a different fix from a policy refusal (403).
  if (proxyStatus && /^50[234]$/.test(proxyStatus[1] as string))
    return {
      kind: "proxy_unreachable",
      detail: `the proxy could not reach it (CONNECT answered ${proxyStatus[1]}: no such host, or it is down)`,
    };
  if (proxyStatus) return { kind: "proxy_refused", detail: `the proxy refused CONNECT (${proxyStatus[1]})` };
  if (/ENOTFOUND|EAI_AGAIN/.test(codes)) return { kind: "dns", detail: "the host name does not resolve (DNS)" };
  if (/CERT|TLS|SSL|ERR_TLS|DEPTH_ZERO|SELF_SIGNED/.test(codes + messages))
    return { kind: "tls", detail: `the TLS handshake failed (${codes.trim() || "certificate"})` };
  if (
    /UND_ERR_CONNECT_TIMEOUT|ETIMEDOUT|UND_ERR_HEADERS_TIMEOUT|TimeoutError|AbortError/.test(
      codes + chain.map((e) => e.name ?? "").join(" "),
    )
  )
    return { kind: "timeout", detail: "no answer in time (timeout)" };
  if (/ECONNREFUSED/.test(codes)) return { kind: "refused", detail: "the connection was refused" };
  if (/ECONNRESET|UND_ERR_SOCKET/.test(codes) && /proxy/i.test(messages))
    return { kind: "proxy_refused", detail: "the proxy closed the connection" };
  return { kind: "refused", detail: (chain[chain.length - 1]?.message ?? "network error").slice(0, 120) };
}
