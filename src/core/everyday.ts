// The commands admins live in (SPEC §2): status, check, features, search, audit, admins. Each
// decides here and returns a Message; every state change is authorized live and audited.
import { randomUUID } from "node:crypto";
import type { AuditInput } from "./audit.js";
import { auditListing } from "./audit-listing.js";
import { authorizeAdmin, isProven, notInRoster } from "./authorize.js";
import type { Clock } from "./clock.js";
import { checksText, when } from "./enable-card.js";
import { FeatureUnavailable, NotAuthorized, NotConnected, UserError } from "./errors.js";
import { FEATURE_CONNECTION_RULE, FEATURES, type FeatureName, findFeature, GHES_CONNECT_SETTINGS_PATH } from "./features.js";
import { githubSiteName, unavailableOnTarget } from "./github-hosts.js";
import type { LinkSide } from "./identity.js";
import type { TokenForSearch } from "./link.js";
import { type Block, type Message, simpleMessage } from "./message.js";
import type { DotcomGateway, FlowStore, GhesGateway, ManageGateway, Notifier, SearchHit, SlackProbe, WitnessSource } from "./ports.js";
import { CHECK_TIMEOUT_MS, type CheckResult, failureOf, runPreflight, withinDeadline } from "./preflight.js";
import { proxyFor } from "./proxy-route.js";
import { pendingEntries, pendingSentence } from "./roster.js";
import type { Answer as StatusAnswer } from "./router.js";
import { unifiedSearch } from "./search.js";
import { slackCheckResults } from "./slack-check.js";
import { STATUS_FRESH_MS, statusMessage } from "./status.js";
import { RecentlyRead } from "./status-cache.js";
import { auditVerifyMessage, verifyTrail } from "./witness.js";

type StatusFacts = Awaited<ReturnType<EverydayCommands["readStatusFacts"]>>;

export interface EverydayDeps {
  store: FlowStore;
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  /** The admin channel read back, for `audit verify` and `check`. */
  witnesses: WitnessSource;
  clock: Clock;
  /** The searcher's own linked token on a side (search never uses the bot's tokens). */
  personToken(slackUserId: string, side: LinkSide): Promise<TokenForSearch>;
  /** GHES search with a person's token. */
  personSearchGhes(token: string, query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]>;
  /** GHES's own GitHub Connect, as the native watcher last saw it (status shows it under ghconnect's). */
  nativeStatus?(): Promise<Block[]>;
  /** `check`'s view of native Connect: the audit log, and GHES's own proxy beside the bot's. */
  nativeChecks?(): Promise<CheckResult[]>;
  /** A native feature's change, governed (card, approval, settings link, proof); see native/governed.ts. */
  governNative?(action: "enable" | "disable", name: FeatureName, slackUserId: string): Promise<Message>;
  /** Who the bot token is and its scopes (auth.test, once, within the check's time limit), or why not. */
  slackProbe(): Promise<SlackProbe>;
  /** Opens a connection to HTTPS_PROXY (when set): undefined when it accepts, else what went wrong. */
  proxyProbe?: () => Promise<{ kind: string; detail: string } | undefined>;
  /** `ghconnect check`: the Database and Encryption key lines, read without changing anything (default: the database answers). */
  storageChecks?: () => Promise<CheckResult[]>;
  config: {
    uploadsUrl: string;
    proxy?: string;
    /** Hosts that go direct although HTTPS_PROXY is set. */
    noProxy?: string;
    /** Where Slack's Web API is (SLACK_API_URL), to tell whether it goes through the proxy. */
    slackApiUrl?: string;
    ghesUrl: string;
    slackMode: "http" | "socket";
    engine: string;
    publicUrl: string;
    /** Each check's time limit (CHECK_TIMEOUT_MS unless told). */
    checkTimeoutMs?: number;
  };
  searchBudgetMs?: number;
}

export function checksVerdict(results: CheckResult[]): string {
  const bad = results.filter((r) => r.status === "fail").length;
  const warn = results.filter((r) => r.status === "warn").length;
  return bad
    ? `❌ ${bad} check${bad > 1 ? "s" : ""} failed`
    : warn
      ? `⚠️ all checks pass, ${warn} warning${warn > 1 ? "s" : ""}`
      : "✅ all checks pass";
}

export class EverydayCommands {
  private readonly statusFacts: RecentlyRead<StatusFacts>;
  private lastView?: { facts: StatusFacts; reply: Message };

  constructor(private readonly deps: EverydayDeps) {
    this.statusFacts = new RecentlyRead(() => this.readStatusFacts(), deps.clock);
  }

  private admin(slackUserId: string, doing: string) {
    return authorizeAdmin(this.deps.store.admins, this.deps.ghes, slackUserId, doing);
  }

  /** `status`: anyone in the admin channel (or any admin elsewhere). */
  async status(slackUserId: string, channelId: string): Promise<Message> {
    const answer = (await this.statusAnswer(slackUserId, channelId, { mayAskGhes: true })) as StatusAnswer;
    await this.deps.store.appendAudit(answer.audit);
    return answer.reply;
  }

  /**
   * `status` from the database alone, for an answer inside Slack's ack; undefined when the last
   * look at GHES is too old and the full `status` (after the ack) must ask it first. Audits
   * nothing: the caller records `audit` once the answer is out.
   */
  statusNow(slackUserId: string, channelId: string): Promise<StatusAnswer | undefined> {
    return this.statusAnswer(slackUserId, channelId, { mayAskGhes: false });
  }

  private async statusAnswer(slackUserId: string, channelId: string, opts: { mayAskGhes: boolean }): Promise<StatusAnswer | undefined> {
    const { store, ghes, clock, notifier } = this.deps;
    if (channelId !== notifier.adminChannel && !(await store.admins.find(slackUserId))) {
      throw new NotAuthorized(`\`status\` is shown in <#${notifier.adminChannel}> and to admins.`, "Run it in the admin channel.");
    }
    let facts = opts.mayAskGhes ? await this.readStatusFacts() : await this.statusFacts.get();
    let ghesCheckFailed: string | undefined;
    const active = facts.active;
    if (active && (!active.lastCheckedAt || clock().getTime() - Date.parse(active.lastCheckedAt) > STATUS_FRESH_MS)) {
      if (!opts.mayAskGhes) return undefined;
      try {
        await store.connections.noteChecked(active.id, await ghes.version());
      } catch (error) {
        ghesCheckFailed = (error as Error).message.slice(0, 160);
        await store.connections.noteChecked(active.id, null);
      }
      this.statusFacts.forget();
      facts = await this.readStatusFacts();
    }
    const view = this.statusView(facts, ghesCheckFailed);
    const pending = await pendingEntries(store.admins);
    const reply: Message = pending.length
      ? { ...view, blocks: [...view.blocks, { kind: "context", text: `⏳ ${pendingSentence(pending)}` }] }
      : view;
    const audit: AuditInput = {
      actor: { slack: slackUserId },
      action: "command.status",
      target: facts.active?.org ?? null,
      outcome: "ok",
      details: { channel: channelId },
    };
    return { reply, audit };
  }

  /**
   * The status view of these facts. A burst of `status` while the same facts are cached shares
   * one rendering of them, made when the facts were first shown (at most the cache's age ago: a
   * second, or up to five while the database is slow).
   */
  private statusView(facts: StatusFacts, ghesCheckFailed?: string): Message {
    if (!ghesCheckFailed && this.lastView?.facts === facts) return this.lastView.reply;
    const { approval, latest, features, inFlight } = facts;
    const base = statusMessage({
      now: this.deps.clock(),
      active: facts.active,
      latest,
      features: features.map((f) => ({ name: f.name, enabled: f.enabled })),
      inFlight,
      pendingApproval: approval && {
        org: approval.org,
        requestedBySlack: approval.requestedBySlack,
        expiresAt: approval.expiresAt,
        status: approval.status,
        policy: approval.policy,
      },
      ghesCheckFailed,
      githubSite: githubSiteName(this.deps.dotcom.webUrl),
    });
    const reply: Message = { ...base, blocks: [...base.blocks, ...facts.native] };
    if (!ghesCheckFailed) this.lastView = { facts, reply };
    return reply;
  }

  /** Something changed (this replica audited a decision): the next `status` reads afresh. */
  forgetStatus(): void {
    this.statusFacts.forget();
  }

  private async readStatusFacts() {
    const { store } = this.deps;
    const active = await store.connections.active();
    const [approval, latest, features, inFlight, native] = await Promise.all([
      active ? store.approvals.pendingFor(active.id) : undefined,
      active ? undefined : store.connections.latest(),
      store.features.all(),
      store.operations.inFlight(),
      this.deps.nativeStatus?.() ?? ([] as Block[]),
    ]);
    return { active, approval, latest, features, inFlight, native };
  }

  /** `check` / `doctor`: every check, changing nothing. */
  async check(slackUserId: string): Promise<Message> {
    const admin = await this.admin(slackUserId, "run the checks");
    const results = await this.runChecks();
    const bad = results.filter((r) => r.status === "fail").length;
    const warn = results.filter((r) => r.status === "warn").length;
    await this.deps.store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "command.check",
      outcome: "ok",
      details: { failed: bad, warnings: warn, checks: results.map((r) => `${r.status}:${r.name}`) },
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
    const { store, config } = this.deps;
    const ms = config.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
    const report = (results: CheckResult[]) => {
      for (const r of results) onResult(r);
      return results;
    };
    const first = report([
      {
        name: "Config",
        status: "ok",
        detail: `Slack in ${config.slackMode === "socket" ? "Socket Mode" : "HTTP mode"}; pages at ${config.publicUrl}`,
      },
    ]);
    const proxyCheck = config.proxy ? this.proxyCheck(config.proxy, ms).then((r) => report([r])) : Promise.resolve([]);
    const storageChecks = this.deps.storageChecks;
    const database = withinDeadline(ms, async (): Promise<CheckResult[] | undefined> => {
      if (storageChecks) return storageChecks();
      await store.admins.count();
      return undefined;
    }).then(
      (lines): CheckResult[] => report(lines ?? [{ name: "Database", status: "ok", detail: `${config.engine} answers` }]),
      (error): CheckResult[] => {
        const { detail } = failureOf(error, { host: "the database" });
        return report([{ name: "Database", status: "fail", detail, advice: "Check DATABASE_URL and that the database is up." }]);
      },
    );
    const slackProxy = config.slackApiUrl ? proxyFor(config.slackApiUrl, config.proxy, config.noProxy) : config.proxy;
    // The probe has its own time limit and names the host; this one only backs it up.
    const slack = withinDeadline(ms + 1000, () => this.deps.slackProbe()).then(
      (probe) => report(slackCheckResults(probe, slackProxy)),
      (error): CheckResult[] => {
        const { detail, advice } = failureOf(error, { host: "Slack", proxy: slackProxy });
        return report([{ name: "Slack", status: "fail", detail, advice }]);
      },
    );
    const github = runPreflight(
      {
        ghes: this.deps.ghes,
        manage: this.deps.manage,
        dotcom: this.deps.dotcom,
        uploadsUrl: config.uploadsUrl,
        proxy: config.proxy,
        noProxy: config.noProxy,
        now: this.deps.clock,
        checkTimeoutMs: ms,
      },
      (_all, latest) => onResult(latest),
    );
    const witness = withinDeadline(ms, () => this.adminChannelCheck()).then(
      (result) => report([result]),
      (error): CheckResult[] => {
        const { detail, advice } = failureOf(error, { host: "Slack", proxy: slackProxy });
        return report([{ name: "Audit witness", status: "fail", detail, advice }]);
      },
    );
    // GHES's own Connect: its audit log, and its proxy beside the bot's (each call has its own time limit).
    const native = this.deps.nativeChecks
      ? withinDeadline(ms * 3, () => (this.deps.nativeChecks as () => Promise<CheckResult[]>)()).then(report, (error): CheckResult[] =>
          report([{ name: "GHES audit log", status: "fail", detail: failureOf(error, { host: "GHES" }).detail }]),
        )
      : Promise.resolve([] as CheckResult[]);
    const [px, db, sl, wi, gh, na] = await Promise.all([proxyCheck, database, slack, witness, github, native]);
    return [...first, ...px, ...db, ...sl, ...wi, ...gh.results, ...na];
  }

  /** HTTPS_PROXY accepts a connection: else every proxied check would fail, each blaming its own host. */
  private async proxyCheck(proxy: string, ms: number): Promise<CheckResult> {
    const { noProxy } = this.deps.config;
    const host = new URL(proxy).host;
    const direct = noProxy ? ` (NO_PROXY=${noProxy} goes direct)` : "";
    const problem = this.deps.proxyProbe
      ? await withinDeadline(ms, () => (this.deps.proxyProbe as NonNullable<EverydayDeps["proxyProbe"]>)()).catch((error: Error) => ({
          kind: "timeout",
          detail: error.message,
        }))
      : undefined;
    if (!problem)
      return { name: "Proxy", status: "ok", detail: `HTTPS_PROXY=${host} accepts connections; GitHub and Slack go through it${direct}` };
    const what =
      problem.kind === "refused"
        ? `the proxy ${host} refused the connection (${problem.detail.replace(/^.*\((\w+)\)$/, "$1")})`
        : problem.kind === "dns"
          ? `the proxy's name ${new URL(proxy).hostname} does not resolve (${problem.detail})`
          : `the proxy ${host} did not accept a connection: ${problem.detail}`;
    return { name: "Proxy", status: "fail", detail: what, advice: "Check HTTPS_PROXY (host and port) and that the proxy is up." };
  }

  /** The bot can read the admin channel back, which `audit verify` needs to notice deleted entries. */
  private async adminChannelCheck(): Promise<CheckResult> {
    const reading = await this.deps.witnesses.read();
    const channel = `<#${this.deps.notifier.adminChannel}>`;
    if (!reading.readable) {
      return { name: "Audit witness", status: "fail", detail: `cannot read ${channel}: ${reading.problem}`, advice: reading.fix };
    }
    return {
      name: "Audit witness",
      status: "ok",
      detail: reading.newest
        ? `the bot reads ${channel}; its newest audit line is entry ${reading.newest.seq}`
        : `the bot reads ${channel}; no audit line posted yet`,
    };
  }

  /** GHES's GitHub Connect settings page, where the native features are switched. */
  private ghesConnectPage(): string {
    return `${this.deps.config.ghesUrl.replace(/\/+$/, "")}${GHES_CONNECT_SETTINGS_PATH}`;
  }

  /** `features`: what each does, its state, and how it is turned on. */
  async features(slackUserId: string): Promise<Message> {
    const states = new Map((await this.deps.store.features.all()).map((f) => [f.name, f]));
    const lines = FEATURES.map((f) => {
      const unavailable = unavailableOnTarget(f.name, this.deps.dotcom.webUrl);
      if (unavailable) return `*${f.title}* \`${f.name}\` — 🚫 not offered on GHE.com (${unavailable})\n    ${f.what}.`;
      const s = states.get(f.name);
      const state = s?.enabled ? `✅ on (by <@${s.changedBySlack}>, ${when(s.changedAt)})` : "▫️ off";
      const how = f.providedByBot
        ? `provided by ghconnect: \`/ghconnect feature ${s?.enabled ? "disable" : "enable"} ${f.name}\``
        : `a GHES setting GitHub offers no API for: \`/ghconnect feature ${s?.enabled ? "disable" : "enable"} ${f.name}\` asks for approval, then links to GHES's settings (${this.ghesConnectPage()}) and records it once proven`;
      return `*${f.title}* \`${f.name}\` — ${state}\n    ${f.what}; ${how}.`;
    });
    await this.deps.store.appendAudit({ actor: { slack: slackUserId }, action: "command.features", outcome: "ok" });
    return {
      text: "GitHub Connect features",
      blocks: [
        { kind: "header", text: "GitHub Connect features" },
        { kind: "text", text: lines.join("\n") },
        { kind: "context", text: FEATURE_CONNECTION_RULE },
      ],
    };
  }

  /** `feature enable|disable NAME`, `feature run server-statistics`. */
  async feature(action: "enable" | "disable" | "run", name: FeatureName, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const info = findFeature(name)!;
    const admin = await this.admin(slackUserId, `${action === "run" ? "run" : "change"} ${name}`);
    const actor = { slack: slackUserId, ghes: admin.ghesLogin };
    const enabled = action === "enable";
    // GitHub's own list of what GHE.com lacks comes first: connecting would not make it available.
    const unavailable = unavailableOnTarget(name, this.deps.dotcom.webUrl);
    if (unavailable && action !== "disable") {
      throw new FeatureUnavailable(
        `${info.title} cannot be ${action === "run" ? "run" : "turned on"}: ${unavailable} (this server connects to ${githubSiteName(this.deps.dotcom.webUrl)}).`,
        "See `/ghconnect features` for the features GitHub offers there.",
        { ghes: admin.ghesLogin },
      );
    }
    // A native feature depends on GHES's own connection, which its card checks, not on ghconnect's.
    if (action !== "run" && !info.providedByBot && this.deps.governNative) return this.deps.governNative(action, name, slackUserId);
    // One rule for every GitHub Connect feature, as GitHub's own: turning one on, or running one,
    // needs the connection (GitHub's Server Statistics requires GitHub Connect too); turning one
    // off never does.
    if ((enabled || action === "run") && !(await store.connections.active())) {
      throw new NotConnected(
        `${info.title} is a GitHub Connect feature and needs a connection to GitHub; this server is not connected.`,
        `Connect first with \`/ghconnect enable ORG\`, then \`/ghconnect feature ${action} ${name}\`.`,
        { ghes: admin.ghesLogin },
      );
    }
    if (action === "run") return this.runServerStatistics(actor.slack);
    const changed = await store.transaction(async (tx) => {
      if (!(await tx.features.set(name, enabled, slackUserId))) return false;
      await tx.audit.append({
        actor,
        action: enabled ? "feature.enabled" : "feature.disabled",
        target: name,
        outcome: "ok",
        details: { native: !info.providedByBot },
      });
      return true;
    });
    if (!changed) return simpleMessage(`${info.title} is already ${enabled ? "on" : "off"}. Nothing was changed.`);
    const note = info.providedByBot
      ? enabled
        ? info.name === "unified-search"
          ? "Anyone can now run `/ghconnect search QUERY`."
          : "ghconnect posts the server's statistics here daily; `/ghconnect feature run server-statistics` posts them now."
        : "ghconnect stopped providing it."
      : `GitHub has no API for this setting: ${enabled ? "turn it on" : "turn it off"} in GHES under Enterprise settings → GitHub Connect (${this.ghesConnectPage()}). ghconnect recorded the decision.`;
    return simpleMessage(`${enabled ? "✅ Turned on" : "▫️ Turned off"} ${info.title}. ${note}`);
  }

  /** Posts GHES's statistics to the admin channel and keeps them for trends. */
  async runServerStatistics(bySlack: string | null): Promise<Message> {
    const { store, ghes, notifier } = this.deps;
    const previous = (await store.stats.latest(1))[0];
    const stats = await ghes.stats();
    await store.stats.add(randomUUID(), stats);
    const pick = (data: Record<string, unknown> | undefined, group: string, key: string) =>
      Number((data?.[group] as Record<string, unknown> | undefined)?.[key] ?? Number.NaN);
    const rows: Array<[string, string, string]> = [
      ["Users", "users", "total_users"],
      ["Organizations", "orgs", "total_orgs"],
      ["Repositories", "repos", "total_repos"],
      ["Pull requests", "pulls", "total_pulls"],
      ["Issues", "issues", "total_issues"],
    ];
    const fields = rows.map(([label, group, key]): [string, string] => {
      const now = pick(stats, group, key);
      const before = pick(previous?.data, group, key);
      const delta = Number.isNaN(before)
        ? ""
        : ` (${now - before >= 0 ? "+" : ""}${now - before} since ${previous ? previous.takenAt.slice(0, 10) : ""})`;
      return [label, `${Number.isNaN(now) ? "?" : now}${delta}`];
    });
    const message: Message = {
      text: "GHES server statistics",
      blocks: [
        { kind: "header", text: "Server statistics" },
        { kind: "fields", fields },
        { kind: "context", text: `From ${new URL(ghes.url).host}; kept for trends.` },
      ],
    };
    await notifier.post(notifier.adminChannel, message);
    await store.appendAudit({
      actor: { slack: bySlack },
      action: "feature.server_statistics",
      target: "server-statistics",
      outcome: "ok",
      details: { users: fields[0]?.[1] },
    });
    return simpleMessage(`Posted the server statistics in <#${notifier.adminChannel}>.`);
  }

  /** The daily statistics job (one replica per day, claimed in the database). */
  async dailyStatistics(replica: string): Promise<boolean> {
    const { store } = this.deps;
    if (!(await store.features.isEnabled("server-statistics"))) return false;
    // Switched on before GITHUB_URL moved to GHE.com, where GitHub does not offer it.
    if (unavailableOnTarget("server-statistics", this.deps.dotcom.webUrl)) return false;
    // Like `feature run server-statistics`: a GitHub Connect feature, so nothing while disconnected.
    if (!(await store.connections.active())) return false;
    if (!(await store.jobs.claim("server-statistics", 24 * 3_600_000, replica))) return false;
    await this.runServerStatistics(null);
    return true;
  }

  async search(query: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const outcome = await unifiedSearch(
      {
        ghesUrl: this.deps.ghes.url,
        searchGhes: this.deps.personSearchGhes,
        dotcom: this.deps.dotcom,
        activeConnection: () => store.connections.active(),
        featureEnabled: (n) => store.features.isEnabled(n),
        personToken: (side) => this.deps.personToken(slackUserId, side),
        budgetMs: this.deps.searchBudgetMs,
      },
      query,
    );
    await store.appendAudit({
      actor: { slack: slackUserId },
      action: "command.search",
      outcome: "ok",
      details: { query: query.slice(0, 100), results: outcome.counts },
    });
    return outcome.message;
  }

  /** `audit [N]`: the newest N entries, newest first, within Slack's limits (see audit-listing). */
  async audit(limit: number, slackUserId: string): Promise<Message> {
    const admin = await this.admin(slackUserId, "read the audit trail");
    const [entries, total] = await Promise.all([this.deps.store.audit.latest(limit), this.deps.store.audit.count()]);
    await this.deps.store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "command.audit",
      outcome: "ok",
      details: { limit },
    });
    return auditListing({ entries, total });
  }

  /** `audit verify`: recomputes the whole chain and compares it with the admin channel's witness. */
  async auditVerify(slackUserId: string): Promise<Message> {
    const admin = await this.admin(slackUserId, "verify the audit trail");
    const report = await verifyTrail(() => this.deps.store.audit.all(), this.deps.witnesses);
    await this.deps.store.appendAudit({
      actor: { slack: slackUserId, ghes: admin.ghesLogin },
      action: "audit.verify",
      outcome: report.ok ? "ok" : "failed",
      details: report.details,
    });
    return auditVerifyMessage(report);
  }

  /** `admins`: the roster. */
  async admins(slackUserId: string): Promise<Message> {
    const list = await this.deps.store.admins.list();
    if (!(await this.deps.store.admins.find(slackUserId)))
      throw new NotAuthorized("Only admins can see the roster.", "Ask an admin to add you.");
    const lines = list.map(
      (a) =>
        `• <@${a.slackUserId}> — GHES \`${a.ghesLogin}\` (added by ${a.addedBy.startsWith("U") ? `<@${a.addedBy}>` : a.addedBy}, ${when(a.addedAt)})${isProven(a) ? "" : " — *pending* until they link that GHES login"}`,
    );
    const blocks: Block[] = [
      { kind: "header", text: `Admins (${list.length})` },
      { kind: "text", text: lines.join("\n") || "No admins." },
      { kind: "context", text: "Each admin's GHES site-admin right is checked live at every action." },
    ];
    return { text: `${list.length} admins`, blocks };
  }

  async adminsAdd(target: string, ghesLogin: string, slackUserId: string): Promise<Message> {
    const { store, ghes } = this.deps;
    const admin = await this.admin(slackUserId, "change the admin roster");
    const status = await ghes.user(ghesLogin);
    if (!status.siteAdmin) {
      throw new UserError(
        status.exists
          ? `\`${ghesLogin}\` is not a site administrator on GHES now, so <@${target}> was not added.`
          : `There is no GHES user \`${ghesLogin}\`, so <@${target}> was not added.`,
        "Only GHES site admins can be ghconnect admins. Promote them on GHES first.",
        { ghes: admin.ghesLogin },
      );
    }
    const added = await store.transaction(async (tx) => {
      // One GHES login, one person: a second Slack identity for the same login would let one
      // person be both requester and approver.
      await tx.admins.lockRoster();
      const holder = (await tx.admins.findByLogin(ghesLogin))?.slackUserId ?? (await tx.links.ownerOf("ghes", ghesLogin));
      if (holder && holder !== target) return { holder };
      if (!(await tx.admins.upsert(target, ghesLogin, slackUserId))) return false;
      const entry = await tx.admins.find(target);
      const proven = entry !== undefined && isProven(entry);
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "admins.added",
        target: `${target}:${ghesLogin}`,
        outcome: "ok",
        details: { proven },
      });
      return { proven };
    });
    if (added === false) return simpleMessage(`<@${target}> is already an admin as \`${ghesLogin}\`. Nothing was changed.`);
    if ("holder" in added) {
      throw new UserError(
        `The GHES login \`${ghesLogin}\` already belongs to <@${added.holder}>; a GHES login belongs to one person, so <@${target}> was not added.`,
        "Remove the other entry first if it is the same person's old Slack account.",
        { ghes: admin.ghesLogin },
      );
    }
    if (added.proven) return simpleMessage(`Added <@${target}> (GHES \`${ghesLogin}\`, already proven) to the admins.`);
    return simpleMessage(
      `Added <@${target}> (GHES \`${ghesLogin}\`) to the admins as *pending*: the entry grants nothing until <@${target}> runs \`/ghconnect link\` and signs in to GHES as \`${ghesLogin}\`.`,
    );
  }

  async adminsRemove(target: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const admin = await this.admin(slackUserId, "change the admin roster");
    const outcome = await store.transaction(async (tx) => {
      // Two admins removing each other at once must not both succeed and empty the roster: the
      // roster lock serializes removals (and the bootstrap), so these checks see the other's change.
      await tx.admins.lockRoster();
      if (!(await tx.admins.find(slackUserId))) return "remover gone" as const;
      const entry = await tx.admins.find(target);
      if (!entry) return "absent" as const;
      if ((await tx.admins.count()) <= 1) return "last" as const;
      await tx.admins.remove(target);
      await tx.audit.append({
        actor: { slack: slackUserId, ghes: admin.ghesLogin },
        action: "admins.removed",
        target: `${target}:${entry.ghesLogin}`,
        outcome: "ok",
      });
      return "removed" as const;
    });
    if (outcome === "remover gone") throw notInRoster("change the admin roster");
    if (outcome === "absent") return simpleMessage(`<@${target}> is not an admin. Nothing was changed.`);
    if (outcome === "last")
      throw new UserError(
        `<@${target}> is the last admin and cannot be removed: nobody could manage ghconnect afterwards.`,
        "Add another admin first.",
        { ghes: admin.ghesLogin },
      );
    return simpleMessage(`Removed <@${target}> from the admins.`);
  }
}
