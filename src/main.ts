// Start-up: config → database → app → listen. Nothing else lives here.
import "dotenv/config";
import { createGhconnect } from "./app.js";
import { ConfigError, configErrorText, loadConfig } from "./config.js";
import { MigrationError } from "./db/migrate.js";
import { WrongEncryptionKey } from "./db/secret-box.js";
import { createLogger } from "./log.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${configErrorText(error)}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  let app: Awaited<ReturnType<typeof createGhconnect>>;
  try {
    app = await createGhconnect({ config, log, recordingThread: true });
  } catch (error) {
    if (error instanceof WrongEncryptionKey) {
      process.stderr.write(`ghconnect: cannot start: ${error.message}\n`);
      process.exit(2);
    }
    const reason = error instanceof MigrationError ? error.message : `could not open the database (${(error as Error).message})`;
    process.stderr.write(`ghconnect: cannot start: ${reason}. Check DATABASE_URL.\n`);
    process.exit(1);
  }
  try {
    await app.listen();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ghconnect: cannot start: ${error.message}.\n`);
      await app.close().catch(() => {});
      process.exit(2);
    }
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      // The usual cause is a second copy of the bot; a stack trace would hide that.
      process.stderr.write(
        `ghconnect: cannot start: port ${config.PORT} is in use (another ghconnect or another program). Set PORT to a free port or stop the other program.\n`,
      );
      await app.close().catch(() => {});
      process.exit(2);
    }
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: no new requests; finishing in-flight work");
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

void main();
