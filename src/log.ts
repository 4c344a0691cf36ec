// Logging: pino, JSON by default and pretty in a terminal. Anything that could hold a secret is
// redacted by path, and the Bolt and Octokit loggers are routed through the same redaction.
import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import pino, { type DestinationStream, type Logger } from "pino";

export const REDACT_PATHS = [
  "token",
  "*.token",
  "*.*.token",
  "pem",
  "*.pem",
  "*.*.pem",
  "privateKey",
  "*.privateKey",
  "client_secret",
  "*.client_secret",
  "*.clientSecret",
  "webhook_secret",
  "*.webhook_secret",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.*.headers.authorization",
  "*.headers.cookie",
  "code",
  "*.code",
  "state",
  "*.state",
  "response_url",
  "*.response_url",
];

// Tokens that might slip into a free-text message are masked too (pino redact only sees paths).
const SECRET_IN_TEXT =
  /(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|\bgh[opsu]_[A-Za-z0-9_]{16,}|\bxox[abpe]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+|\bv1\.[0-9a-f]{40})/g;

export function maskSecrets(text: string): string {
  return text.replace(SECRET_IN_TEXT, "[redacted]");
}

/** The field names REDACT_PATHS censors, at whatever depth (the last segment of each path). */
const SECRET_FIELDS = new Set(REDACT_PATHS.map((path) => path.split(".").pop() as string));
const MAX_DEPTH = 8;

/**
 * pino's redact paths name fixed positions (`*.token` is one level down) and cannot reach into
 * arrays of any length: `{ items: [{ token }] }` would be written as is. This walks plain objects
 * and arrays and returns a copy with every secret field censored and tokens in strings masked;
 * whatever it does not need to change (and anything that is not a plain object or array, such
 * as an Error for pino's serializer) is passed on untouched.
 */
export function redactDeep<T>(value: T, depth = 0): T {
  if (typeof value === "string") return maskSecrets(value) as T;
  if (!value || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = redactDeep(item, depth + 1);
      if (next !== item) changed = true;
      return next;
    });
    return (changed ? out : value) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = SECRET_FIELDS.has(key) && item !== undefined && item !== null ? "[redacted]" : redactDeep(item, depth + 1);
    if (next !== item) {
      out ??= { ...(value as Record<string, unknown>) };
      out[key] = next;
    }
  }
  return (out ?? value) as T;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    formatters: { log: (object) => redactDeep(object) },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === "string" ? maskSecrets(a) : a instanceof Error ? maskSecrets(a.message) : a)) as Parameters<
            typeof method
          >,
        );
      },
    },
  };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY && level !== "silent") {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss" } } });
  }
  return pino(options);
}

/** Bolt's Logger interface, backed by pino. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: "bolt" });
  const text = (msg: unknown[]) =>
    maskSecrets(msg.map((m) => (typeof m === "string" ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(" "));
  return {
    debug: (...msg) => child.debug(text(msg)),
    info: (...msg) => child.info(text(msg)),
    warn: (...msg) => child.warn(text(msg)),
    error: (...msg) => child.error(text(msg)),
    setLevel: () => {},
    getLevel: () => (child.level === "debug" || child.level === "trace" ? LogLevel.DEBUG : LogLevel.INFO),
    setName: () => {},
  };
}
