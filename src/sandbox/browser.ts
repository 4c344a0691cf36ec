// A very small browser for the demo and the tests: follows redirects, keeps cookies per host,
// and submits the one form a page asks a person to submit (the bot's auto-submitting manifest
// form, GitHub's "Create GitHub App" and "Install" buttons). Real Chromium runs in the browser
// test; this one is for quick, readable flows.

export interface Hop {
  method: string;
  url: string;
  status: number;
  /** A page whose form the browser submitted: its heading and the button it pressed, as a person reads them. */
  pressed?: { heading: string; button: string };
}

export interface BrowseResult {
  hops: Hop[];
  finalUrl: string;
  status: number;
  /** The final page as text, tags stripped. */
  text: string;
  html: string;
}

interface Form {
  action: string;
  method: string;
  fields: Record<string, string>;
  submit: boolean;
  /** The submit button's label, tags stripped (empty for an auto-submitting form without one). */
  button: string;
}

const decode = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

function findForm(html: string, base: string): Form | undefined {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!match) return undefined;
  const attrs = match[1] ?? "";
  const inner = match[2] ?? "";
  const attr = (name: string, from: string) => {
    const m = new RegExp(`${name}="([^"]*)"`, "i").exec(from);
    return m ? decode(m[1] as string) : undefined;
  };
  const fields: Record<string, string> = {};
  for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
    const name = attr("name", input[1] ?? "");
    if (name) fields[name] = attr("value", input[1] ?? "") ?? "";
  }
  const submit = /data-sandbox-submit|data-autosubmit/i.test(attrs) || /<button\b[^>]*type="submit"/i.test(inner);
  return {
    action: new URL(attr("action", attrs) ?? base, base).toString(),
    method: (attr("method", attrs) ?? "get").toUpperCase(),
    fields,
    submit,
    button: pageText(/<button\b[^>]*type="submit"[^>]*>([\s\S]*?)<\/button>/i.exec(inner)?.[1] ?? ""),
  };
}

/** A page's first heading, tags stripped. */
function heading(html: string): string {
  return pageText(/<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1] ?? "");
}

export function pageText(html: string): string {
  return decode(
    html
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
      .replace(/<(br|\/p|\/h\d|\/li|\/div|\/tr)>/gi, "\n")
      .replace(/<[^>]+>/g, " "),
  )
    .replace(/[ \t]+/g, " ")
    .replace(/\n\s+/g, "\n")
    .trim();
}

export class SandboxBrowser {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** `fetch`: the network as the person's machine sees it (the sandbox's, for GHE.com names). */
  constructor(private readonly options: { maxSteps?: number; submitForms?: boolean; fetch?: typeof globalThis.fetch } = {}) {}

  /** Browses until the next hop would go to a URL matching `stop`; that URL is the final one. */
  async browseUntil(url: string, stop: RegExp): Promise<BrowseResult> {
    return this.browse(url, stop);
  }

  /** Signs the user in to github.com or GHES (the sandbox's login page sets a cookie). */
  async signIn(githubWebUrl: string, user: string): Promise<void> {
    await this.request("GET", `${githubWebUrl}/sandbox/login?user=${encodeURIComponent(user)}`);
  }

  async browse(url: string, stopBefore?: RegExp): Promise<BrowseResult> {
    const hops: Hop[] = [];
    let method = "GET";
    let current = url;
    let body: string | undefined;
    for (let step = 0; step < (this.options.maxSteps ?? 12); step++) {
      if (stopBefore && step > 0 && stopBefore.test(current)) return { hops, finalUrl: current, status: 0, text: "", html: "" };
      const response = await this.request(method, current, body);
      hops.push({ method, url: current, status: response.status });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current).toString();
        method = "GET";
        body = undefined;
        continue;
      }
      const html = await response.text();
      const form = response.status === 200 && this.options.submitForms !== false ? findForm(html, current) : undefined;
      if (form?.submit) {
        (hops[hops.length - 1] as Hop).pressed = { heading: heading(html), button: form.button };
        method = form.method;
        body = new URLSearchParams(form.fields).toString();
        current = form.action;
        continue;
      }
      return { hops, finalUrl: current, status: response.status, text: pageText(html), html };
    }
    throw new Error(`too many steps browsing ${url}`);
  }

  private async request(method: string, url: string, body?: string): Promise<Response> {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await (this.options.fetch ?? fetch)(url, { method, headers, body, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const [k, ...v] = pair.split("=");
      if (k) jar.set(k.trim(), v.join("="));
    }
    this.cookies.set(host, jar);
    return response;
  }
}
