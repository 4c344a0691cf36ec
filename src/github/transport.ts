// Outbound HTTP for GitHub (and Slack): Node's fetch does not read HTTPS_PROXY, so every client
// gets this fetch, whose undici dispatcher sends requests through the proxy unless NO_PROXY
// exempts the host. A timeout cuts a hanging server.
import { connect } from "node:net";
import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from "undici";

import type { FetchLike } from "../core/ports.js";

export type { FetchLike };

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

/**
 * Opens (and closes) a TCP connection to the proxy: undefined when it accepts, else the failure.
 * `check` runs this first, so a proxy that is down is named as such rather than blamed on every host.
 */
export function probeProxy(proxyUrl: string, timeoutMs: number): Promise<NetworkFailure | undefined> {
  const url = new URL(proxyUrl);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve({ kind: "timeout", detail: `no answer within ${timeoutMs / 1000} s (timeout)` });
    });
    socket.once("error", (error) => resolve(classifyNetworkError(error)));
  });
}

function hostOfInput(input: unknown): string {
  try {
    return new URL(typeof input === "string" ? input : input instanceof URL ? input.href : (input as { url: string }).url).host;
  } catch {
    return "unknown";
  }
}

import { classifyNetworkError, type NetworkFailure } from "../net-errors.js";

export { classifyNetworkError, type NetworkFailure, type Reachability } from "../net-errors.js";
