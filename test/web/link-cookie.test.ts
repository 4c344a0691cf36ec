// The browser's link cookie as web/ sets it from core's outcomes: what a browser keeps, and where
// it sends it back, for a PUBLIC_URL on https under a path (the e2e sandbox serves plain http at /).
import { describe, expect, it } from "vitest";
import type { LinkPageOutcome } from "../../src/core/link-outcome.js";
import { linkPage, linkPageUrls } from "../../src/web/link-routes.js";

const PUBLIC_URL = "https://chat.example.com/ghconnect-bot";

const confirm: LinkPageOutcome = {
  kind: "confirm",
  person: "U123",
  askedAt: "14:05 UTC",
  side: "ghes",
  sideLabel: "GHES (ghes.example.com)",
  formAction: linkPageUrls(PUBLIC_URL).confirm,
  state: "state-abc",
  token: "token-def",
  browser: "browser-name",
};

describe("the ghconnect_link cookie", () => {
  it("on https under a path: HttpOnly, SameSite=Lax, Secure, sent back to the link pages under PUBLIC_URL's path only", () => {
    const expected = "ghconnect_link=browser-name; Path=/ghconnect-bot/ghconnect/link; Max-Age=600; HttpOnly; SameSite=Lax; Secure";
    const page = linkPage(confirm, PUBLIC_URL);
    expect(page.kind === "confirm" ? page.cookies : undefined).toEqual([expected]);
    const redirect = linkPage(
      { kind: "redirect", location: "https://ghes.example.com/login/oauth/authorize", browser: "browser-name" },
      PUBLIC_URL,
    );
    expect(redirect.kind === "redirect" ? redirect.cookies : undefined).toEqual([expected]);
  });

  it("the pages it is sent back to are the ones under that path: the form posts there and both sign-ins return there", () => {
    const urls = linkPageUrls(PUBLIC_URL);
    for (const url of [urls.start, urls.confirm, urls.callback.ghes, urls.callback.github])
      expect(new URL(url).pathname.startsWith("/ghconnect-bot/ghconnect/link/")).toBe(true);
  });

  it("refused and linked pages set no cookie (a refusal never renames the browser)", () => {
    const refused = linkPage({ kind: "refused", refusal: "other_browser", title: "Not started in this browser", message: "…" }, PUBLIC_URL);
    expect(refused).toMatchObject({ kind: "page", status: 403 });
    expect("cookies" in refused).toBe(false);
    const linked = linkPage({ kind: "linked", title: "Linked to GHES", message: "You are alice on GHES." }, PUBLIC_URL);
    expect(linked).toMatchObject({ kind: "page", status: 200 });
    expect("cookies" in linked).toBe(false);
  });
});
