// The sandboxed bot starts even when the port it found free is taken before it listens (another
// test's server can get it in between): it gives that port up for a fresh one and its PUBLIC_URL
// is where it really listens.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type SandboxedBot, startBotOnSandbox } from "../../src/sandbox/bot.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";

describe("the sandboxed bot's port", () => {
  let sandbox: Sandbox | undefined;
  let bot: SandboxedBot | undefined;
  let squatter: Server | undefined;
  const dir = mkdtempSync(join(tmpdir(), "ghconnect-port-"));
  afterEach(async () => {
    await bot?.stop();
    await new Promise<void>((resolve) => (squatter ? squatter.close(() => resolve()) : resolve()));
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a port taken between finding it free and listening: the bot starts on a fresh one and PUBLIC_URL names it", async () => {
    sandbox = await startSandbox();
    // Another process holds the port the bot is first offered, as happens under load.
    const server = createServer();
    squatter = server;
    await new Promise<void>((resolve) => server.listen(0, () => resolve()));
    const taken = (server.address() as { port: number }).port;
    const offered: number[] = [];
    bot = await startBotOnSandbox(sandbox, {
      databaseUrl: `sqlite:${join(dir, "bot.db")}`,
      candidatePort: async () => {
        const port = offered.length === 0 ? taken : await freePort();
        offered.push(port);
        return port;
      },
    });
    expect(offered).toEqual([taken, bot.port]);
    expect(new URL(bot.config.PUBLIC_URL).port).toBe(String(bot.port));
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  });
});
