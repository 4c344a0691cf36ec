// Environment → typed, validated configuration. The one place that reads process.env.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { derivedGithubUrls, gheComSubdomain } from "./core/github-hosts.js";

// Each variable's hint ("should be …") is given once and serves both cases: zod reports a missing
// required variable as a type error, which carries the same hint as the format check.
const text = (hint: string) => z.string({ error: hint }).trim();

const url = (example: string) => {
  const hint = `should be an http(s) URL, e.g. ${example}`;
  return text(hint)
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v), { message: hint })
    .transform((v) => v.replace(/\/+$/, ""));
};

const adminRoster = z
  .string()
  .trim()
  .refine(
    (v) =>
      v === "" || /^([UW][A-Z0-9]{2,}:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(,\s*[UW][A-Z0-9]{2,}:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))*$/.test(v),
    {
      message:
        "should be a comma-separated list of SlackMemberId:ghes-login (Slack: profile → ⋮ → Copy member ID), e.g. U012ABC:octo-admin,U034DEF:hubot",
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

const ENCRYPTION_KEY_HINT = "should be 32 random bytes in base64 (openssl rand -base64 32)";
const encryptionKey = text(ENCRYPTION_KEY_HINT)
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, "base64").length === 32, { message: ENCRYPTION_KEY_HINT })
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

/**
 * A Slack token with its prefix that is not a stand-in like `xoxb-...` or `xoxb-your-token`
 * (copying .env.example as it is must not get as far as Slack's `invalid_auth`). A real token's
 * shape (prefix-digits-digits-random) is never taken for a placeholder, whatever its letters spell.
 */
function slackToken<T extends z.ZodType<string | undefined>>(prefix: string, hint: string, schema: T): T {
  const real = new RegExp(`^${prefix}-\\d+-\\d+-[A-Za-z0-9-]+$`);
  const stub = /^[.…xX*_-]*$|your|placeholder|changeme|replace|example|<|>/i;
  return schema.superRefine((v, ctx) => {
    if (v === undefined) return;
    if (!new RegExp(`^${prefix}-\\S+$`).test(v)) ctx.addIssue({ code: "custom", message: hint });
    else if (!real.test(v) && stub.test(v.slice(prefix.length + 1))) {
      ctx.addIssue({ code: "custom", message: `is a placeholder (as in .env.example), not a token: it ${hint}` });
    }
  });
}

const duration = (example: string) =>
  z
    .string()
    .trim()
    .superRefine((v, ctx) => {
      // A bare number is ambiguous (seconds? minutes?): say which units there are, with its value.
      if (/^\d+$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `=${v} has no unit: write ${v}m (minutes) or ${Number(v) * 60}s` });
      } else if (!/^\d+\s*(s|m|h)$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `should be a duration like ${example} (a number with s, m or h)` });
      } else if (/^0+\s*[smh]$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `should be longer than zero, e.g. ${example}` });
      }
    })
    .transform((v) => {
      const m = /^(\d+)\s*(s|m|h)$/.exec(v) as RegExpExecArray;
      const n = Number(m[1]);
      return n * (m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 1000);
    });

const count = (example: string, min: number) =>
  z
    .string()
    .trim()
    .refine((v) => /^\d{1,6}$/.test(v) && Number(v) >= min, { message: `should be a whole number of at least ${min}, e.g. ${example}` })
    .transform(Number);

const BOT_TOKEN_HINT = "should be the bot token, xoxb-… (OAuth & Permissions → Bot User OAuth Token)";
const SIGNING_SECRET_HINT =
  "should be the app's Signing Secret, 32 hexadecimal characters (Basic Information → App Credentials → Signing Secret; not the Client Secret or the Verification Token)";
const ADMIN_CHANNEL_HINT = "should be a channel id like C0123ABCD (not a #name)";
const GHES_TOKEN_HINT = "should be a site admin's personal access token (classic) for GHES, scopes site_admin and admin:enterprise";

/**
 * What each variable must look like; the messages are what an operator reads at start-up. A
 * message is either a hint ("should be …", read as "X is missing: it should be …" or "X is
 * malformed: it should be …") or what follows the name as it stands ("is a placeholder …",
 * "=15 has no unit …"). Every bad variable is reported, one line each.
 */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: slackToken("xoxb", BOT_TOKEN_HINT, text(BOT_TOKEN_HINT)),
  SLACK_SIGNING_SECRET: text(SIGNING_SECRET_HINT).refine((v) => /^\S{8,}$/.test(v), { message: SIGNING_SECRET_HINT }),
  SLACK_APP_TOKEN: slackToken("xapp", "should be an app-level token, xapp-… (leave unset for the HTTP receiver)", optionalNonEmpty),
  SLACK_ADMIN_CHANNEL: text(ADMIN_CHANNEL_HINT).refine((v) => /^[CG][A-Z0-9]{2,}$/.test(v), { message: ADMIN_CHANNEL_HINT }),
  SLACK_API_URL: url("https://slack.com/api/")
    .optional()
    .transform((v) => `${v ?? "https://slack.com/api"}/`),
  GHES_URL: url("https://ghes.example.com"),
  GHES_TOKEN: text(GHES_TOKEN_HINT).min(1, { message: GHES_TOKEN_HINT }),
  GHES_MANAGE_URL: url("https://ghes.example.com:8443").optional(),
  GHES_MANAGE_PASSWORD: optionalNonEmpty,
  // The OAuth app on GHES that people sign in through to prove their GHES login (/ghconnect link).
  GHES_OAUTH_CLIENT_ID: optionalNonEmpty,
  GHES_OAUTH_CLIENT_SECRET: optionalNonEmpty,
  // The enterprise account's slug on GHES, for its audit log (native GitHub Connect); optional.
  GHES_ENTERPRISE: optionalNonEmpty.refine((v) => v === undefined || /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/.test(v), {
    message: "should be the enterprise slug as in https://GHES/enterprises/SLUG (letters, digits, hyphens)",
  }),
  GITHUB_URL: url("https://github.com").default("https://github.com"),
  // Unset: derived from GITHUB_URL (api.github.com, or api.SUBDOMAIN.ghe.com for GHE.com).
  GITHUB_API_URL: url("https://api.github.com").optional(),
  GITHUB_UPLOADS_URL: url("https://uploads.github.com").optional(),
  PUBLIC_URL: url("https://ghconnect.example.com"),
  PORT: z
    .string()
    .trim()
    .default("3000")
    .refine((v) => /^\d+$/.test(v) && Number(v) < 65536, { message: "should be a TCP port number, e.g. 3000" })
    .transform(Number),
  // /metrics has its own listener, on loopback unless METRICS_HOST says otherwise (SPEC §7).
  METRICS_PORT: z
    .string()
    .trim()
    .default("9464")
    .refine((v) => v === "off" || (/^\d+$/.test(v) && Number(v) < 65536), {
      message: "should be a TCP port number for /metrics, e.g. 9464 (or off)",
    })
    .transform((v) => (v === "off" ? undefined : Number(v))),
  METRICS_HOST: z
    .string()
    .trim()
    .default("127.0.0.1")
    .refine((v) => /^[A-Za-z0-9.:-]+$/.test(v), { message: "should be the address /metrics listens on, e.g. 127.0.0.1" }),
  SLACK_TEAM_ID: optionalNonEmpty.refine((v) => v === undefined || /^[TE][A-Z0-9]{2,}$/.test(v), {
    message: "should be the Slack workspace id (T0123ABCD), or the organization id (E0123ABCD) for an org-wide install",
  }),
  SLACK_APP_ID: optionalNonEmpty.refine((v) => v === undefined || /^A[A-Z0-9]{2,}$/.test(v), {
    message: "should be the Slack app id, A0123ABCD (Basic Information → App Credentials)",
  }),
  GHCONNECT_QUEUE_LIMIT: count("200", 0).prefault("200"),
  GHCONNECT_USER_LIMIT: count("3", 1).prefault("3"),
  DATABASE_URL: databaseUrl.default("sqlite:./data/ghconnect.db"),
  GHCONNECT_ENCRYPTION_KEY: encryptionKey,
  // During a key change: the key being replaced, still read (README "Rotating the key").
  GHCONNECT_PREVIOUS_ENCRYPTION_KEY: encryptionKey.optional(),
  GHCONNECT_ADMINS: adminRoster.prefault(""),
  GHCONNECT_DISCONNECT_APPROVAL: z
    .string()
    .trim()
    .default("self")
    .refine((v) => v === "self" || v === "peer", {
      message: "should be self (any admin) or peer (a second admin), for disconnects and native feature changes",
    })
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

export type Config = Omit<z.output<typeof envSchema>, "GITHUB_API_URL" | "GITHUB_UPLOADS_URL"> & {
  GITHUB_API_URL: string;
  GITHUB_UPLOADS_URL: string;
};

/** One variable that is missing or malformed, and the sentence saying what it should be. */
export interface ConfigProblem {
  variable: string;
  /** Follows the variable's name: "is missing: it should be …", "=15 has no unit: …". */
  expectation: string;
}

/**
 * The configuration is unusable. Carries every problem found, so one start tells the operator
 * everything to fix; `variable`/`expectation` are the first one's.
 */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(
    readonly variable: string,
    readonly expectation: string,
    more: ConfigProblem[] = [],
  ) {
    const problems = [{ variable, expectation }, ...more];
    super(
      problems.length === 1
        ? problemLine(problems[0] as ConfigProblem)
        : `${problems.length} configuration variables are missing or malformed:\n${problems.map((p) => `  ${problemLine(p)}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }

  static of(problems: ConfigProblem[]): ConfigError {
    const [first, ...more] = problems as [ConfigProblem, ...ConfigProblem[]];
    return new ConfigError(first.variable, first.expectation, more);
  }
}

function problemLine(p: ConfigProblem): string {
  return p.expectation.startsWith("=") ? `${p.variable}${p.expectation}` : `${p.variable} ${p.expectation}`;
}

/** What `ghconnect` prints before exiting on a ConfigError (one line, or a heading and a line each). */
export function configErrorText(error: ConfigError, lead = "ghconnect: cannot start: "): string {
  return error.problems.length === 1 ? `${lead}${error.message}. See .env.example.` : `${lead}${error.message}\nSee .env.example.`;
}

/** Checks between variables, run on the raw values so they are reported with the others. */
const crossChecks: Array<(env: Record<string, string | undefined>) => ConfigProblem | undefined> = [
  (env) =>
    env.GHES_MANAGE_URL && !env.GHES_MANAGE_PASSWORD
      ? { variable: "GHES_MANAGE_PASSWORD", expectation: "is required when GHES_MANAGE_URL is set (the Management Console password)" }
      : undefined,
  (env) => githubHostMismatch(env, "GITHUB_API_URL"),
  (env) => githubHostMismatch(env, "GITHUB_UPLOADS_URL"),
  (env) =>
    Boolean(env.GHES_OAUTH_CLIENT_ID?.trim()) !== Boolean(env.GHES_OAUTH_CLIENT_SECRET?.trim())
      ? {
          variable: env.GHES_OAUTH_CLIENT_ID?.trim() ? "GHES_OAUTH_CLIENT_SECRET" : "GHES_OAUTH_CLIENT_ID",
          expectation: "must be set together with its pair (the GHES OAuth app people link through)",
        }
      : undefined,
];

/**
 * Lines of the .env file whose unquoted value holds a `#`: dotenv reads it as the start of a
 * comment (with or without a space before it), so `SLACK_ADMIN_CHANNEL=#ghes-admins` arrives
 * empty, and a problem with that variable is told as what it is.
 */
export function commentCutValues(envFileText: string): Set<string> {
  const cut = new Set<string>();
  for (const line of envFileText.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*([^'"`\s].*)$/.exec(line);
    if (m?.[2]?.includes("#")) cut.add(m[1] as string);
  }
  return cut;
}

function dotenvFileText(): string {
  try {
    return readFileSync(process.env.DOTENV_CONFIG_PATH || ".env", "utf8");
  } catch {
    return "";
  }
}

/**
 * A GHE.com GITHUB_URL with a github.com API or uploads URL (or the reverse) sends the app's
 * credentials to the wrong GitHub: GHE.com and github.com are separate services with separate
 * accounts. An explicit URL on any other host (a gateway in front of GitHub) is taken as given.
 */
function githubHostMismatch(env: Record<string, string | undefined>, variable: "GITHUB_API_URL" | "GITHUB_UPLOADS_URL") {
  const explicit = env[variable];
  const web = env.GITHUB_URL ?? "https://github.com";
  if (!explicit) return undefined;
  const webSubdomain = gheComSubdomain(web);
  let host: string;
  try {
    host = new URL(explicit).hostname.toLowerCase();
  } catch {
    return undefined; // reported as malformed by the schema
  }
  const onGithubCom = host === "github.com" || host.endsWith(".github.com");
  const onGheCom = host.endsWith(".ghe.com");
  const derived = derivedGithubUrls(web)[variable === "GITHUB_API_URL" ? "api" : "uploads"];
  if (webSubdomain && onGithubCom) {
    return {
      variable,
      expectation: `=${explicit} is on github.com but GITHUB_URL=${web} is GHE.com: unset ${variable} (it becomes ${derived}) or set it to that`,
    };
  }
  if (!webSubdomain && onGheCom && hostIsGithubCom(web)) {
    return {
      variable,
      expectation: `=${explicit} is on GHE.com but GITHUB_URL=${web} is github.com: set GITHUB_URL=https://SUBDOMAIN.ghe.com for GHE.com, or unset ${variable}`,
    };
  }
  return undefined;
}

function hostIsGithubCom(url: string): boolean {
  try {
    return new URL(url).hostname.toLowerCase() === "github.com";
  } catch {
    return false;
  }
}

/** Reads the configuration; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Only the process's own environment came from .env (dotenv/config); a map given by a caller did not.
  const cut = env === process.env ? commentCutValues(dotenvFileText()) : new Set<string>();
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    // The lower-case proxy variables are what curl and most tools read; honour them too.
    picked[key] = env[key] ?? (key === "HTTPS_PROXY" || key === "NO_PROXY" ? env[key.toLowerCase()] : undefined);
    if (picked[key] !== undefined && picked[key].trim() === "" && key !== "GHCONNECT_ADMINS") picked[key] = undefined;
  }
  const result = envSchema.safeParse(picked);
  const problems: ConfigProblem[] = [];
  for (const issue of result.success ? [] : result.error.issues) {
    const variable = String(issue.path[0]);
    if (problems.some((p) => p.variable === variable)) continue;
    const written = cut.has(variable);
    const expectation = expectationOf(issue.message, picked[variable] === undefined);
    problems.push({
      variable,
      expectation: written
        ? `${picked[variable] === undefined ? "is empty" : "is cut short"}: in .env an unquoted # starts a comment, so everything from the # on in the ${variable}= line is dropped (quote the value if it really holds a #); it ${expectation.replace(/^.*?: it /, "")}`
        : expectation,
    });
  }
  for (const check of crossChecks) {
    const problem = check(picked);
    if (problem && !problems.some((p) => p.variable === problem.variable)) problems.push(problem);
  }
  if (problems.length > 0) throw ConfigError.of(problems);
  const data = result.data as z.output<typeof envSchema>;
  const derived = derivedGithubUrls(data.GITHUB_URL);
  return { ...data, GITHUB_API_URL: data.GITHUB_API_URL ?? derived.api, GITHUB_UPLOADS_URL: data.GITHUB_UPLOADS_URL ?? derived.uploads };
}

function expectationOf(message: string, missing: boolean): string {
  // Never an empty hint: a message that is not one of ours still points at .env.example.
  const hint = message.startsWith("should") ? message : "should be set as .env.example describes";
  if (missing) return `is missing: it ${hint}`;
  if (message.startsWith("=") || message.startsWith("is ")) return message;
  return `is malformed: it ${hint}`;
}
