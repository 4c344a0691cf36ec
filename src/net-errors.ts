// What went wrong on the network, in words an operator can act on. Shared by the GitHub transport
// and the Slack probe: Node's fetch reports every failure as "fetch failed" and hides the reason
// (ENOTFOUND, ECONNREFUSED, a certificate error, a timeout) in its `cause` chain.

export type Reachability =
  | "ok"
  | "dns"
  | "tls"
  | "wrong_protocol"
  | "proxy_refused"
  | "proxy_unreachable"
  | "timeout"
  | "refused"
  | "http_error";

export interface NetworkFailure {
  kind: Exclude<Reachability, "ok" | "http_error">;
  /** e.g. "DNS lookup failed (ENOTFOUND)"; never contains a URL's credentials or a token. */
  detail: string;
}

/** Turns a network failure into what an admin can act on. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  const chain: Array<{ name?: string; code?: string; message?: string }> = [];
  let current: unknown = error;
  for (let i = 0; current && i < 6; i++) {
    chain.push(current as { code?: string; message?: string });
    // @slack/web-api wraps the fetch error as `original`; fetch and undici use `cause`.
    const next = current as { cause?: unknown; original?: unknown };
    current = next.cause ?? next.original;
  }
  const codes = chain.map((e) => (typeof e.code === "string" ? e.code : "")).join(" ");
  const messages = chain.map((e) => e.message ?? "").join(" | ");
  const names = chain.map((e) => e.name ?? "").join(" ");
  const code = (pattern: RegExp) => pattern.exec(codes)?.[0];
  const proxyStatus = /Proxy response \((\d{3})\)/.exec(messages);
  // A proxy answers 502/503/504 to CONNECT when it cannot resolve or reach the host itself (as
  // Squid does for a name that does not exist): a different fix from a policy refusal (403).
  if (proxyStatus && /^50[234]$/.test(proxyStatus[1] as string))
    return {
      kind: "proxy_unreachable",
      detail: `the proxy could not reach it (CONNECT answered ${proxyStatus[1]}: no such host, or it is down)`,
    };
  if (proxyStatus) return { kind: "proxy_refused", detail: `the proxy refused CONNECT (${proxyStatus[1]})` };
  const dns = code(/ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL/);
  if (dns) return { kind: "dns", detail: `DNS lookup failed (${dns})` };
  // A TLS hello answered in plain HTTP (an http:// service given as https://, or the wrong port):
  // OpenSSL reads the HTTP text as a record of an unknown version. Not a certificate problem.
  const plain =
    code(/ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_HTTP_REQUEST|ERR_SSL_PACKET_LENGTH_TOO_LONG/) ?? /wrong version number/i.exec(messages)?.[0];
  if (plain) return { kind: "wrong_protocol", detail: `this port does not speak HTTPS (${plain})` };
  if (/CERT|TLS|SSL|DEPTH_ZERO|SELF_SIGNED/.test(codes + messages)) {
    const tls = code(/\S*(CERT|TLS|SSL|DEPTH_ZERO|SELF_SIGNED)\S*/);
    return { kind: "tls", detail: `TLS handshake failed (${tls ?? "certificate"})` };
  }
  if (/UND_ERR_CONNECT_TIMEOUT|ETIMEDOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT/.test(codes) || /TimeoutError|AbortError/.test(names))
    return { kind: "timeout", detail: "no answer in time (timeout)" };
  if (/ECONNREFUSED/.test(codes)) return { kind: "refused", detail: "the connection was refused (ECONNREFUSED)" };
  if (/ECONNRESET|UND_ERR_SOCKET/.test(codes) && /proxy/i.test(messages))
    return { kind: "proxy_refused", detail: "the proxy closed the connection" };
  const reset = code(/ECONNRESET|UND_ERR_SOCKET|EHOSTUNREACH|ENETUNREACH/);
  if (reset) return { kind: "refused", detail: `the connection failed (${reset})` };
  return { kind: "refused", detail: (chain[chain.length - 1]?.message ?? "network error").slice(0, 120) };
}
