// Environment → typed, validated configuration. The one place that reads process.env.
import { z } from "zod";

const url = (example: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v), { message: `should be an http(s) URL, e.g. ${example}` })
    .transform((v) => v.replace(/\/+$/, ""));

const adminRoster = z
  .string()
  .trim()
  .refine(
    (v) =>
      v === "" || /^([UW][A-Z0-9]{2,}:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(,\s*[UW][A-Z0-9]{2,}:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))*$/.test(v),
    {
      message: "should be a comma-separated list of SlackUserId:ghes-login, e.g. U012ABC:octo-admin,U034DEF:hubot",
    },
  )
  .transform((v) =>
    v === ""
      ? []
      : v.split(",").map((pair) => {
          const [slackUserId, ghesLogin] = pair.trim().split(":");
          return { slackUserId: slackUserId as string, ghesLogin: ghesLogin as string };
        }),
  );

const encryptionKey = z
  .string()
  .trim()
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, "base64").length === 32, {
    message: "should be 32 random bytes in base64 (openssl rand -base64 32)",
  })
  .transform((v) => Buffer.from(v, "base64"));

const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), {
    message: "should be sqlite:./data/ghconnect.db, sqlite::memory: or postgres://user@host:5432/db",
  });

const optionalNonEmpty = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const duration = (example: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^\d+\s*(s|m|h)?$/.test(v), { message: `should be a duration like ${example} (s, m or h; bare numbers are seconds)` })
    .transform((v) => {
      const m = /^(\d+)\s*(s|m|h)?$/.exec(v) as RegExpExecArray;
      const n = Number(m[1]);
      return n * (m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 1000);
    });

/** What each variable must look like; the messages are what an operator reads at start-up. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string()
    .trim()
    .refine((v) => /^xoxb-\S+$/.test(v), { message: "should be the bot token, xoxb-…" }),
  SLACK_SIGNING_SECRET: z
    .string()
    .trim()
    .refine((v) => /^\S{8,}$/.test(v), { message: "should be the app's signing secret (Basic Information → App Credentials)" }),
  SLACK_APP_TOKEN: optionalNonEmpty.refine((v) => v === undefined || /^xapp-\S+$/.test(v), {
    message: "should be an app-level token, xapp-… (leave unset for the HTTP receiver)",
  }),
  SLACK_ADMIN_CHANNEL: z
    .string()
    .trim()
    .refine((v) => /^[CG][A-Z0-9]{2,}$/.test(v), { message: "should be a channel id like C0123ABCD (not a #name)" }),
  SLACK_API_URL: url("https://slack.com/api/")
    .optional()
    .transform((v) => `${v ?? "https://slack.com/api"}/`),
  GHES_URL: url("https://ghes.example.com"),
  GHES_TOKEN: z.string().trim().min(1, { message: "should be a site-admin personal access token for GHES" }),
  GHES_MANAGE_URL: url("https://ghes.example.com:8443").optional(),
  GHES_MANAGE_PASSWORD: optionalNonEmpty,
  GITHUB_URL: url("https://github.com").default("https://github.com"),
  GITHUB_API_URL: url("https://api.github.com").default("https://api.github.com"),
  GITHUB_UPLOADS_URL: url("https://uploads.github.com").default("https://uploads.github.com"),
  PUBLIC_URL: url("https://ghconnect.example.com"),
  PORT: z
    .string()
    .trim()
    .default("3000")
    .refine((v) => /^\d+$/.test(v) && Number(v) < 65536, { message: "should be a TCP port number, e.g. 3000" })
    .transform(Number),
  DATABASE_URL: databaseUrl.default("sqlite:./data/ghconnect.db"),
  GHCONNECT_ENCRYPTION_KEY: encryptionKey,
  GHCONNECT_ADMINS: adminRoster.prefault(""),
  GHCONNECT_DISCONNECT_APPROVAL: z
    .string()
    .trim()
    .default("self")
    .refine((v) => v === "self" || v === "peer", { message: "should be self (any admin) or peer (a second admin)" })
    .transform((v) => v as "self" | "peer"),
  GHCONNECT_APPROVAL_TTL: duration("15m").prefault("15m"),
  // How often each replica runs the periodic duties (expiries, crash recovery, pruning).
  GHCONNECT_SWEEP_INTERVAL: duration("30s")
    .prefault("30s")
    .refine((ms) => ms >= 1000 && ms <= 3_600_000, { message: "should be between 1s and 1h, e.g. 30s" }),
  // How long an executing disconnect survives without its bot's heartbeat (renewed every third).
  GHCONNECT_EXECUTION_LEASE: duration("60s")
    .prefault("60s")
    .refine((ms) => ms >= 3000 && ms <= 3_600_000, { message: "should be between 3s and 1h, e.g. 60s" }),
  HTTPS_PROXY: url("http://proxy.example.com:3128").optional(),
  NO_PROXY: optionalNonEmpty,
  LOG_LEVEL: z
    .string()
    .trim()
    .default("info")
    .refine((v) => ["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(v), {
      message: "should be one of fatal, error, warn, info, debug, trace, silent",
    }),
});

export type Env = z.input<typeof envSchema>;
export type Config = z.output<typeof envSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expectation: string,
  ) {
    super(`${variable} ${expectation}`);
    this.name = "ConfigError";
  }
}

/** Reads the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    // The lower-case proxy variables are what curl and most tools read; honour them too.
    picked[key] = env[key] ?? (key === "HTTPS_PROXY" || key === "NO_PROXY" ? env[key.toLowerCase()] : undefined);
    if (picked[key] === "" && key !== "GHCONNECT_ADMINS") picked[key] = undefined;
  }
  const result = envSchema.safeParse(picked);
  if (result.success) {
    const cfg = result.data;
    if (cfg.GHES_MANAGE_URL && !cfg.GHES_MANAGE_PASSWORD) {
      throw new ConfigError("GHES_MANAGE_PASSWORD", "is required when GHES_MANAGE_URL is set (the Management Console password)");
    }
    return cfg;
  }
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const variable = String(issue.path[0]);
  const missing = picked[variable] === undefined;
  throw new ConfigError(variable, missing ? `is missing: it ${describe(variable)}` : `is malformed: it ${issue.message}`);
}

function describe(variable: string): string {
  const probe = envSchema.shape[variable as keyof typeof envSchema.shape].safeParse("\u0000");
  const message = probe.success ? "" : (probe.error.issues[0]?.message ?? "");
  return message.startsWith("should") ? message : `should be set (${message})`;
}
