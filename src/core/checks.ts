// `/ghconnect check` (and `ghconnect check` in a terminal): every check, changing nothing — the
// config, the proxy, the database, Slack, the admin channel's audit witness, GitHub (the
// preflight) and GHES's own Connect — run at once, each within its time limit.
import { authorizeAdmin } from "./authorize.js";
import type { Clock } from "./clock.js";
import { checksText } from "./enable-card.js";
import type { Message } from "./message.js";
import type { DotcomGateway, FlowStore, GhesGateway, ManageGateway, Notifier, SlackProbe, WitnessSource } from "./ports.js";
import { CHECK_TIMEOUT_MS, type CheckResult, failureOf, runPreflight, withinDeadline } from "./preflight.js";
import { proxyFor } from "./proxy-route.js";
import { slackCheckResults } from "./slack-check.js";

export interface ChecksConfig {
  uploadsUrl: string;
  proxy?: string;
  /** Hosts that go direct although HTTPS_PROXY is set. */
  noProxy?: string;
  /** Where Slack's Web API is (SLACK_API_URL), to tell whether it goes through the proxy. */
  slackApiUrl?: string;
  slackMode: "http" | "socket";
  engine: string;
  publicUrl: string;
  /** Each check's time limit (CHECK_TIMEOUT_MS unless told). */
  checkTimeoutMs?: number;
  /** How many admins GHCONNECT_ADMINS names (it seeds an empty roster once, at start-up). */
  bootstrapAdmins?: number;
  /** GHES_OAUTH_CLIENT_ID and _SECRET are set: people can prove their GHES login. */
  ghesOAuth?: boolean;
}

export interface ChecksDeps {
  store: FlowStore;
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  /** The admin channel read back (the audit witness `audit verify` compares with). */
  witnesses: WitnessSource;
  clock: Clock;
  /** Who the bot token is and its scopes (auth.test, once, within the check's time limit), or why not. */
  slackProbe(): Promise<SlackProbe>;
  /** Opens a connection to HTTPS_PROXY (when set): undefined when it accepts, else what went wrong. */
  proxyProbe?: () => Promise<{ kind: string; detail: string } | undefined>;
  /** The Database and Encryption key lines, read without changing anything (default: the database answers). */
  storageChecks?: () => Promise<CheckResult[]>;
  /** GHES's own Connect: its audit log, and GHES's own proxy beside the bot's. */
  nativeChecks?(): Promise<CheckResult[]>;
  config: ChecksConfig;
}

/** The one line that sums the results up: failures first, then warnings. */
export function checksVerdict(results: CheckResult[]): string {
  const bad = results.filter((r) => r.status === "fail").length;
  const warn = results.filter((r) => r.status === "warn").length;
  return bad
    ? `❌ ${bad} check${bad > 1 ? "s" : ""} failed`
    : warn
      ? `⚠️ all checks pass, ${warn} warning${warn > 1 ? "s" : ""}`
      : "✅ all checks pass";
}

export class Checks {
  constructor(private readonly deps: ChecksDeps) {}

  /** `check` / `doctor`: admins only; audited with each check's outcome. */
  async check(slackUserId: string): Promise<Message> {
    const admin = await authorizeAdmin(this.deps.store.admins, this.deps.ghes, slackUserId, "run the checks");
    const results = await this.runChecks();
    await this.deps.store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "command.check",
      outcome: "ok",
      details: {
        failed: results.filter((r) => r.status === "fail").length,
        warnings: results.filter((r) => r.status === "warn").length,
        checks: results.map((r) => `${r.status}:${r.name}`),
      },
    });
    const verdict = checksVerdict(results);
    return {
      text: `ghconnect check: ${verdict}`,
      blocks: [
        { kind: "header", text: "ghconnect check" },
        { kind: "text", text: checksText(results) },
        { kind: "context", text: `${verdict}. Nothing was changed.` },
      ],
    };
  }

  /**
   * Every check (also run by `ghconnect check` in a terminal, before Slack works), concurrently,
   * each within its time limit; `onResult` hears each as it finishes. Results come back in order.
   */
  async runChecks(onResult: (result: CheckResult) => void = () => {}): Promise<CheckResult[]> {
    const ms = this.deps.config.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
    const report = (results: CheckResult[]) => {
      for (const r of results) onResult(r);
      return results;
    };
    const config = report([this.configLine(), ...this.oauthLine()]);
    const proxy = this.proxyChecks(ms).then(report);
    const database = this.databaseChecks(ms).then(report);
    const slack = this.slackChecks(ms).then(report);
    // The preflight reports each of its checks as it finishes.
    const github = this.githubChecks(ms, onResult);
    const witness = this.witnessChecks(ms).then(report);
    const native = this.nativeChecks(ms).then(report);
    const groups = await Promise.all([proxy, database, slack, witness, github, native]);
    return [...config, ...groups.flat()];
  }

  private configLine(): CheckResult {
    const { slackMode, publicUrl } = this.deps.config;
    return {
      name: "Config",
      status: "ok",
      detail: `Slack in ${slackMode === "socket" ? "Socket Mode" : "HTTP mode"}; pages at ${publicUrl}`,
    };
  }

  /** Without the GHES OAuth app nobody can prove a GHES login: `admins add` entries stay pending, GHES search is skipped. */
  private oauthLine(): CheckResult[] {
    if (this.deps.config.ghesOAuth !== false) return [];
    return [
      {
        name: "GHES sign-in",
        status: "warn",
        detail:
          "GHES_OAUTH_CLIENT_ID and GHES_OAUTH_CLIENT_SECRET are not set: nobody can prove a GHES login, so admins added with `admins add` stay pending and search skips GHES",
        advice: 'Register an OAuth app on GHES and set both (README "Linking people, not strings").',
      },
    ];
  }

  /**
   * Who can run admin commands: the roster as the database holds it (read, never seeded). A
   * database not initialised yet has an empty roster, which the first start seeds from
   * GHCONNECT_ADMINS; when that is unset too, nobody ever could.
   */
  private async rosterLine(database: CheckResult[]): Promise<CheckResult[]> {
    const line = database.find((r) => r.name === "Database");
    const fresh = line?.status === "warn" && line.detail.startsWith("not initialised yet");
    if (line && line.status !== "ok" && !fresh) return [];
    const count = fresh ? 0 : await this.deps.store.admins.count();
    const seeds = this.deps.config.bootstrapAdmins ?? 0;
    if (count > 0) return [{ name: "Admin roster", status: "ok", detail: `${count} admin${count === 1 ? "" : "s"} in the roster` }];
    if (seeds > 0)
      return [
        {
          name: "Admin roster",
          status: "ok",
          detail: `empty; the next start seeds it from GHCONNECT_ADMINS (${seeds} admin${seeds === 1 ? "" : "s"})`,
        },
      ];
    return [
      {
        name: "Admin roster",
        status: "fail",
        detail: "empty and GHCONNECT_ADMINS unset: nobody can run admin commands",
        advice:
          "Set GHCONNECT_ADMINS=<your Slack member ID>:<your GHES login> (Slack: your profile → ⋮ → Copy member ID) and restart the bot; it seeds an empty roster once.",
      },
    ];
  }

  /** Slack's Web API's proxy: HTTPS_PROXY unless NO_PROXY sends SLACK_API_URL direct. */
  private slackProxy(): string | undefined {
    const { slackApiUrl, proxy, noProxy } = this.deps.config;
    return slackApiUrl ? proxyFor(slackApiUrl, proxy, noProxy) : proxy;
  }

  /** HTTPS_PROXY accepts a connection: else every proxied check would fail, each blaming its own host. */
  private async proxyChecks(ms: number): Promise<CheckResult[]> {
    const { proxy, noProxy } = this.deps.config;
    if (!proxy) return [];
    const host = new URL(proxy).host;
    const direct = noProxy ? ` (NO_PROXY=${noProxy} goes direct)` : "";
    const probe = this.deps.proxyProbe;
    const problem = probe
      ? await withinDeadline(ms, () => probe()).catch((error: Error) => ({ kind: "timeout", detail: error.message }))
      : undefined;
    if (!problem)
      return [{ name: "Proxy", status: "ok", detail: `HTTPS_PROXY=${host} accepts connections; GitHub and Slack go through it${direct}` }];
    const what =
      problem.kind === "refused"
        ? `the proxy ${host} refused the connection (${problem.detail.replace(/^.*\((\w+)\)$/, "$1")})`
        : problem.kind === "dns"
          ? `the proxy's name ${new URL(proxy).hostname} does not resolve (${problem.detail})`
          : `the proxy ${host} did not accept a connection: ${problem.detail}`;
    return [{ name: "Proxy", status: "fail", detail: what, advice: "Check HTTPS_PROXY (host and port) and that the proxy is up." }];
  }

  private databaseChecks(ms: number): Promise<CheckResult[]> {
    const { storageChecks, config } = this.deps;
    return withinDeadline(ms, async (): Promise<CheckResult[]> => {
      const database: CheckResult[] = storageChecks
        ? await storageChecks()
        : [{ name: "Database", status: "ok", detail: `${config.engine} answers` }];
      return [...database, ...(await this.rosterLine(database))];
    }).catch((error): CheckResult[] => {
      const { detail } = failureOf(error, { host: "the database" });
      return [{ name: "Database", status: "fail", detail, advice: "Check DATABASE_URL and that the database is up." }];
    });
  }

  private slackChecks(ms: number): Promise<CheckResult[]> {
    const proxy = this.slackProxy();
    // The probe has its own time limit and names the host; this one only backs it up.
    return withinDeadline(ms + 1000, () => this.deps.slackProbe()).then(
      (probe) => slackCheckResults(probe, proxy),
      (error): CheckResult[] => {
        const { detail, advice } = failureOf(error, { host: "Slack", proxy });
        return [{ name: "Slack", status: "fail", detail, advice }];
      },
    );
  }

  /** The bot can read the admin channel back, which `audit verify` needs to notice deleted entries. */
  private witnessChecks(ms: number): Promise<CheckResult[]> {
    const channel = `<#${this.deps.notifier.adminChannel}>`;
    return withinDeadline(ms, () => this.deps.witnesses.read()).then(
      (reading): CheckResult[] => {
        if (!reading.readable)
          return [{ name: "Audit witness", status: "fail", detail: `cannot read ${channel}: ${reading.problem}`, advice: reading.fix }];
        const newest = reading.newest ? `its newest audit line is entry ${reading.newest.seq}` : "no audit line posted yet";
        return [{ name: "Audit witness", status: "ok", detail: `the bot reads ${channel}; ${newest}` }];
      },
      (error): CheckResult[] => {
        const { detail, advice } = failureOf(error, { host: "Slack", proxy: this.slackProxy() });
        return [{ name: "Audit witness", status: "fail", detail, advice }];
      },
    );
  }

  private async githubChecks(ms: number, onResult: (result: CheckResult) => void): Promise<CheckResult[]> {
    const { ghes, manage, dotcom, clock, config } = this.deps;
    const outcome = await runPreflight(
      {
        ghes,
        manage,
        dotcom,
        uploadsUrl: config.uploadsUrl,
        proxy: config.proxy,
        noProxy: config.noProxy,
        now: clock,
        checkTimeoutMs: ms,
      },
      (_all, latest) => onResult(latest),
    );
    return outcome.results;
  }

  /** GHES's own Connect: its audit log, and its proxy beside the bot's (each call has its own time limit). */
  private nativeChecks(ms: number): Promise<CheckResult[]> {
    const nativeChecks = this.deps.nativeChecks;
    if (!nativeChecks) return Promise.resolve([]);
    return withinDeadline(ms * 3, () => nativeChecks()).catch((error): CheckResult[] => [
      { name: "GHES audit log", status: "fail", detail: failureOf(error, { host: "GHES" }).detail },
    ]);
  }
}
