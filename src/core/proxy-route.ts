// Which hosts go through HTTPS_PROXY: every one unless NO_PROXY names it — the rule undici's
// EnvHttpProxyAgent (our transport) applies, so a check says "through the proxy" only for the
// hosts that really use it, and blames the proxy only for their failures.

/** The proxy `url` is reached through, or undefined when it goes direct. */
export function proxyFor(url: string, proxy: string | undefined, noProxy = ""): string | undefined {
  if (!proxy || !URL.canParse(url)) return proxy;
  const target = new URL(url);
  const hostname = target.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(target.port, 10) || (target.protocol === "http:" ? 80 : 443);
  const entries = noProxy.split(/[,\s]/).filter(Boolean);
  if (noProxy === "*") return undefined;
  for (const entry of entries) {
    const parsed = /^(.+):(\d+)$/.exec(entry);
    const name = (parsed ? (parsed[1] as string) : entry).replace(/^\*?\./, "").toLowerCase();
    if (parsed && Number.parseInt(parsed[2] as string, 10) !== port) continue;
    if (hostname === name || hostname.endsWith(`.${name}`)) return undefined;
  }
  return proxy;
}
