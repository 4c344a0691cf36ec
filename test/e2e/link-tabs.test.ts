// The link start page in one real browser, the two buttons of one
// `/ghconnect link` message opened in two tabs (GHES and github.com), as a person does. A
// browser keeps one cookie per name and path, so the page's cookies must not make the second tab
// break the first.
import { afterEach, describe, expect, it } from "vitest";
import { pageText } from "../../src/sandbox/browser.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, type World } from "../helpers/world.js";

const decode = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");

/**
 * One browser with tabs: one cookie jar (per host, a cookie per name, the last one set wins, as
 * for cookies of the same name, domain and path), redirects followed, the sandbox's GitHub forms
 * ("Authorize") submitted; the bot's confirmation page is left for the person to press.
 */
class OneBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  constructor(private readonly fetchFn: typeof globalThis.fetch) {}

  private async request(method: string, url: string, body?: string): Promise<Response> {
    const host = new URL(url).host;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers.origin = new URL(url).origin;
    }
    const response = await this.fetchFn(url, { method, headers, body, redirect: "manual" });
    for (const c of response.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const [k, ...v] = pair.split("=");
      const value = v.join("=");
      if (!k) continue;
      if (/Max-Age=0/i.test(c)) cookies.delete(k.trim());
      else cookies.set(k.trim(), value);
    }
    this.jar.set(host, cookies);
    return response;
  }

  async signIn(webUrl: string, user: string): Promise<void> {
    await this.request("GET", `${webUrl}/sandbox/login?user=${encodeURIComponent(user)}`);
  }

  /** Follows redirects and GitHub's own forms; stops at any page of the bot's (the confirmation page). */
  async go(url: string, method = "GET", body?: string, stopAtHost?: string): Promise<{ status: number; url: string; html: string }> {
    let current = url;
    for (let step = 0; step < 12; step++) {
      if (stopAtHost && step > 0 && new URL(current).host === stopAtHost) return { status: 0, url: current, html: "" };
      const response = await this.request(method, current, body);
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current).toString();
        method = "GET";
        body = undefined;
        continue;
      }
      const html = await response.text();
      const form = /<form\b[^>]*data-sandbox-submit[^>]*>([\s\S]*?)<\/form>/i.exec(html);
      const action = form ? /action="([^"]*)"/i.exec(form[0])?.[1] : undefined;
      if (response.status === 200 && form && action) {
        const fields = new URLSearchParams();
        for (const m of (form[1] ?? "").matchAll(/<input\b[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi))
          fields.set(m[1] as string, decode(m[2] as string));
        method = (/method="([^"]*)"/i.exec(form[0])?.[1] ?? "get").toUpperCase();
        current = new URL(decode(action), current).toString();
        body = method === "POST" ? fields.toString() : undefined;
        continue;
      }
      return { status: response.status, url: current, html };
    }
    throw new Error(`too many steps from ${url}`);
  }

  /** The person presses the confirmation page's button (its form, posted from the page). */
  async press(page: { url: string; html: string }, stopAtHost?: string) {
    const state = /name="state" value="([^"]+)"/.exec(page.html)?.[1] as string;
    const token = /name="token" value="([^"]+)"/.exec(page.html)?.[1] as string;
    const action = /<form method="post" action="([^"]+)"/.exec(page.html)?.[1] as string;
    return this.go(new URL(action, page.url).toString(), "POST", new URLSearchParams({ state, token }).toString(), stopAtHost);
  }
}

describe.each(ENGINES)("attack: the link start page in two tabs (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("both buttons of one /ghconnect link message, opened in two tabs of one browser, each confirm and link", async () => {
    world = await startWorld(engine);
    await world.enable();
    const since = world.mark();
    await world.command("carol", "link");
    const reply = await world.privateMessage("carol", /Prove who you are/, since);
    const ghesUrl = world.linkIn(reply, /Sign in to GHES/);
    const githubUrl = world.linkIn(reply, /Sign in to github\.com/);

    const browser = new OneBrowser(world.sandbox.fetch);
    await browser.signIn(world.sandbox.urls.web, SANDBOX_USERS.carol.github);
    await browser.signIn(world.sandbox.urls.ghes, SANDBOX_USERS.carol.ghes);

    // carol opens both buttons (two tabs), reads the pages, then presses "continue" in each.
    const ghesTab = await browser.go(ghesUrl);
    const githubTab = await browser.go(githubUrl);
    expect([ghesTab.status, githubTab.status]).toEqual([200, 200]);
    expect(pageText(ghesTab.html)).toContain("Only continue if you are");

    const ghesDone = await browser.press(ghesTab);
    expect(pageText(ghesDone.html)).toContain("You are carol on GHES.");
    const githubDone = await browser.press(githubTab);
    expect(pageText(githubDone.html)).toContain("You are monalisa on github.com.");
    const links = await world.bot.bot.store.links.all(SANDBOX_USERS.carol.slack);
    expect(links.map((l) => [l.side, l.login]).sort()).toEqual([
      ["ghes", "carol"],
      ["github", "monalisa"],
    ]);
  });

  it("a GHES sign-in left at GHES's page while the github.com tab is confirmed and completed still completes in that browser", async () => {
    world = await startWorld(engine);
    await world.enable();
    const since = world.mark();
    await world.command("carol", "link");
    const reply = await world.privateMessage("carol", /Prove who you are/, since);
    const browser = new OneBrowser(world.sandbox.fetch);
    await browser.signIn(world.sandbox.urls.web, SANDBOX_USERS.carol.github);
    await browser.signIn(world.sandbox.urls.ghes, SANDBOX_USERS.carol.ghes);

    // Tab 1: GHES, confirmed; carol is now on GHES's sign-in page and has not pressed it yet.
    const ghesTab = await browser.go(world.linkIn(reply, /Sign in to GHES/));
    const atGhes = await browser.press(ghesTab, new URL(world.sandbox.urls.ghes).host);
    expect(atGhes.url).toContain(new URL(world.sandbox.urls.ghes).host);
    // Tab 2: github.com, confirmed and signed in to the end.
    const githubTab = await browser.go(world.linkIn(reply, /Sign in to github\.com/));
    const githubDone = await browser.press(githubTab);
    expect(pageText(githubDone.html)).toContain("You are monalisa on github.com.");
    // Back to tab 1: carol finishes the GHES sign-in she started in this very browser.
    const ghesDone = await browser.go(atGhes.url);
    expect(pageText(ghesDone.html)).toContain("You are carol on GHES.");
    expect((await world.bot.bot.store.links.get(SANDBOX_USERS.carol.slack, "ghes"))?.login).toBe("carol");
  });
});
