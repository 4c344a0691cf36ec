// The enable flow in a real browser: Chromium opens the manifest link, GitHub's (sandbox) pages
// create and install the app, and the bot's own page says "Connected". Screenshots of every
// page land in test/artifacts/. Needs Debian's chromium (.ci/run installs it).
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "../helpers/world.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = "test/artifacts";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`Browser test SKIPPED: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it).`);

describe.skipIf(!haveChromium)("enable in a real browser (Chromium)", () => {
  let world: World;
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    world = await startWorld("sqlite");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("manifest → create app → install → the bot's Connected page", async () => {
    const link = await world.enableUntilGitHub();
    const context = await browser.newContext();
    await context.addCookies([{ name: "sandbox_user", value: "octocat", url: world.sandbox.urls.web }]);
    const page = await context.newPage();
    await page.goto(link);
    // The bot's page posts the manifest by itself; GitHub shows what it will create.
    await page.waitForSelector("#create-app");
    expect(await page.textContent("h1")).toContain("Create GitHub App for acme");
    await page.screenshot({ path: `${ARTIFACTS}/1-github-create-app.png` });
    await page.click("#create-app");
    await page.waitForSelector("#install");
    expect(await page.textContent("h1")).toMatch(/^Install GHES Connect/);
    await page.screenshot({ path: `${ARTIFACTS}/2-github-install.png` });
    await page.click("#install");
    await page.waitForSelector("text=Connected acme");
    expect(page.url()).toContain("/ghconnect/github/setup");
    expect(await page.textContent("main")).toContain("is now connected to the GitHub organization acme");
    await page.screenshot({ path: `${ARTIFACTS}/3-ghconnect-connected.png` });
    expect((await world.bot.bot.store.connections.active())?.org).toBe("acme");
  }, 60_000);

  it("a replayed link shows the bot's error page", async () => {
    const page = await browser.newPage();
    await page.goto(`${world.bot.url}/ghconnect/github/callback?code=abc&state=${"x".repeat(43)}`);
    expect(await page.textContent("h1")).toBe("Unknown link");
    await page.screenshot({ path: `${ARTIFACTS}/4-ghconnect-error.png` });
  });
});
