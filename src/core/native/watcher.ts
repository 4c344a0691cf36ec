// The watcher of GHES's native GitHub Connect. Each minute one replica (claimed per period in the
// database) reads the `dotcom_connection` events of GHES's enterprise audit log, keeps each new
// one, and announces every change that did not come through ghconnect: an audit entry
// (`native.observed`) whose line the admin channel shows. `status` and `check` read what it kept,
// so they never wait on GHES.
//
// Times are GHES's own (`created_at` of each event): the search window starts a day before the
// newest event already seen, never at the bot's clock, so a GHES clock behind or ahead of the
// bot's cannot hide an event; document ids make re-reading an event harmless.
import type { AuditInput } from "../audit.js";
import type { Clock } from "../clock.js";
import { when } from "../enable-card.js";
import { UserError } from "../errors.js";
import { FEATURES } from "../features.js";
import type { Block } from "../message.js";
import { CHECK_TIMEOUT_MS, type CheckResult, withinDeadline } from "../preflight.js";
import { driftLine, FEATURE_EVENTS, foldNative, isChange, NATIVE_PHRASE, type NativeEvent } from "./events.js";
import type { NativeAuditLog, NativeEventStore } from "./ports.js";

export const NATIVE_WATCH_EVERY_MS = 60_000;
const OVERLAP_MS = 24 * 3_600_000;

export interface NativeWatchDeps {
  auditLog: NativeAuditLog;
  events: NativeEventStore;
  /** GHES_ENTERPRISE; undefined when not configured (doctor says how to find it). */
  enterprise?: string;
  ghesUrl: string;
  clock: Clock;
  appendAudit(input: AuditInput): Promise<unknown>;
  /** true for the one replica that runs this period's look. */
  claim(name: string, periodMs: number): Promise<boolean>;
  /** The features as ghconnect last recorded them (a governed change records its proof there). */
  featureStates?(): Promise<Array<{ name: string; enabled: boolean; changedAt: string | null; changedBySlack: string | null }>>;
  /** A governed request waiting for this event takes it (verified) instead of it being drift. */
  takeExpected?(event: NativeEvent): Promise<boolean>;
}

export type LookOutcome =
  | { kind: "not_configured" }
  | { kind: "not_claimed" }
  | { kind: "failed"; problem: string }
  | { kind: "looked"; newEvents: number; announced: number; baseline: boolean };

/** How to find the slug, for `check` and the README. */
export const ENTERPRISE_SLUG_HOWTO =
  "Set GHES_ENTERPRISE to the enterprise slug: it is the SLUG in the address of GHES's enterprise settings, https://GHES/enterprises/SLUG/settings (Site admin → Enterprise settings).";

/** A claim that never lapses: once per database. */
const ONCE_MS = 100 * 365 * 86_400_000;

export class NativeWatcher {
  /** GHES_ENTERPRISE, or the slug GHES told (discoverEnterprise) when it is not set. */
  private discovered?: string;
  private discoveryProblem?: string;
  private lastDiscovery = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: NativeWatchDeps) {}

  /** The slug known now (configured or already discovered), without asking GHES. */
  get knownEnterprise(): string | undefined {
    return this.deps.enterprise ?? this.discovered;
  }

  /**
   * The enterprise slug: GHES_ENTERPRISE, else asked of GHES (at most once a minute until it
   * answers; the answer is kept for the life of the process).
   */
  async enterprise(): Promise<string | undefined> {
    const known = this.knownEnterprise;
    if (known || !this.deps.auditLog.discoverEnterprise) return known;
    const now = this.deps.clock().getTime();
    if (now - this.lastDiscovery < NATIVE_WATCH_EVERY_MS) return undefined;
    this.lastDiscovery = now;
    const found = await this.deps.auditLog.discoverEnterprise();
    if ("slug" in found) {
      this.discovered = found.slug;
      this.discoveryProblem = undefined;
      // Each replica asks at each start; the trail records a slug once (claimed in the database),
      // and again only if GHES names another one.
      if (await this.deps.claim(`native-enterprise-discovered:${found.slug}`, ONCE_MS))
        await this.deps.appendAudit({
          actor: { slack: null },
          action: "native.enterprise_discovered",
          target: found.slug,
          outcome: "ok",
          details: { source: "GHES GraphQL viewer.enterprises" },
        });
    } else this.discoveryProblem = found.problem;
    return this.discovered;
  }

  /** The periodic duty (app.ts runs it each minute): one replica per minute looks. */
  async tick(): Promise<LookOutcome> {
    if (!(await this.enterprise())) return { kind: "not_configured" };
    if (!(await this.deps.claim("native-connect-watch", NATIVE_WATCH_EVERY_MS))) return { kind: "not_claimed" };
    return this.look();
  }

  /** Reads new events now; the first look ever keeps what exists as the baseline and announces none of it. */
  async look(): Promise<LookOutcome> {
    const { auditLog, events, clock } = this.deps;
    const enterprise = await this.enterprise();
    if (!enterprise) return { kind: "not_configured" };
    const previous = await events.lastLook();
    const known = await events.all();
    const newest = known.at(-1)?.at;
    const phrase = newest ? `${NATIVE_PHRASE} created:>=${new Date(Date.parse(newest) - OVERLAP_MS).toISOString()}` : NATIVE_PHRASE;
    let read: NativeEvent[];
    try {
      read = await auditLog.read({ enterprise, phrase });
    } catch (error) {
      const problem = error instanceof UserError ? `${error.message}${error.hint ? ` ${error.hint}` : ""}` : (error as Error).message;
      await events.noteLook({ at: clock().toISOString(), problem });
      // One entry (and one line in the channel) when the watcher starts failing or fails
      // differently; the request id GitHub gives each answer is not a difference.
      const same = (p: string | null | undefined) => p?.replace(/ — GitHub request id \S+/, "");
      if (same(previous?.problem) !== same(problem))
        await this.deps.appendAudit({
          actor: { slack: null },
          action: "native.watch_failed",
          outcome: "failed",
          details: { reason: problem },
        });
      return { kind: "failed", problem };
    }
    // The baseline is the first look that succeeded (a failed first look does not count).
    const baseline = !previous?.okAt && known.length === 0;
    let newEvents = 0;
    let announced = 0;
    for (const event of [...read].sort((a, b) => a.at.localeCompare(b.at))) {
      if (!(await events.record(event))) continue;
      newEvents++;
      if (baseline || !isChange(event)) continue;
      if (await this.deps.takeExpected?.(event)) continue;
      announced++;
      await this.deps.appendAudit({
        actor: { slack: null, ghes: event.actor },
        action: "native.observed",
        target: event.action,
        outcome: "ok",
        details: { line: driftLine(event), event_id: event.id, event_action: event.action, event_at: event.at, via: "ghes_settings" },
      });
    }
    // The baseline is audited when there was something to take as such: an empty log says nothing.
    if (baseline && newEvents > 0)
      await this.deps.appendAudit({
        actor: { slack: null },
        action: "native.baseline",
        outcome: "ok",
        details: { enterprise, events: newEvents },
      });
    await events.noteLook({ at: clock().toISOString(), problem: null });
    if (previous?.problem)
      await this.deps.appendAudit({ actor: { slack: null }, action: "native.watch_recovered", outcome: "ok", details: { enterprise } });
    return { kind: "looked", newEvents, announced, baseline };
  }

  /** `check`'s look at the audit log: configured, readable with GHES_TOKEN, for this enterprise. */
  async check(): Promise<CheckResult> {
    this.lastDiscovery = Number.NEGATIVE_INFINITY; // `check` asks GHES again now
    // Within a check's own limit: a GHES that does not answer is the GHES line's failure, not this one's.
    const enterprise = await withinDeadline(CHECK_TIMEOUT_MS, () => this.enterprise()).catch((error: Error) => {
      this.discoveryProblem = `GHES could not be asked for its enterprise slug (${error.message})`;
      return undefined;
    });
    if (!enterprise)
      return {
        name: "GHES audit log",
        status: "warn",
        detail: `GHES_ENTERPRISE is not set${this.discoveryProblem ? ` and ${this.discoveryProblem}` : ""}, so GHES's own GitHub Connect is not watched`,
        advice: ENTERPRISE_SLUG_HOWTO,
      };
    const source = this.deps.enterprise ? "" : " (slug discovered from GHES; GHES_ENTERPRISE is not set)";
    try {
      const events = await this.deps.auditLog.read({ enterprise, phrase: NATIVE_PHRASE });
      return {
        name: "GHES audit log",
        status: "ok",
        detail: `GHES_TOKEN reads the audit log of enterprise \`${enterprise}\`${source} (${events.length} \`dotcom_connection\` event${events.length === 1 ? "" : "s"})`,
      };
    } catch (error) {
      const e = error as Error & { hint?: string };
      return { name: "GHES audit log", status: "fail", detail: e.message, advice: e.hint };
    }
  }

  /** The native section of `status`, from what the watcher kept (no call to GHES). */
  async statusBlocks(): Promise<Block[]> {
    // Only what is known now: `status` may be answered inside Slack's ack, so it never waits on
    // GHES for the slug (the watcher's periodic look asks for it).
    const enterprise = this.knownEnterprise;
    const settings = `${this.deps.ghesUrl.replace(/\/+$/, "")}/enterprises/${enterprise ?? "SLUG"}/settings/dotcom_connection`;
    if (!enterprise)
      return [
        {
          kind: "context",
          text: `GHES's own GitHub Connect is not watched: GHES_ENTERPRISE is not set${this.deps.auditLog.discoverEnterprise ? " and GHES has not told its enterprise slug (asked each minute)" : ""}. ${ENTERPRISE_SLUG_HOWTO}`,
        },
      ];
    const [all, look, recorded] = await Promise.all([
      this.deps.events.all(),
      this.deps.events.lastLook(),
      this.deps.featureStates?.() ?? Promise.resolve([]),
    ]);
    const byName = new Map(recorded.map((f) => [f.name, f]));
    const s = foldNative(all);
    // Until the watcher has read the log once, nothing is known: say so rather than "no event".
    const unread = !look || (look.problem !== undefined && !look.okAt);
    const notRead = "not read yet (read each minute)";
    const seen = (at: string | undefined) => (at ? when(at) : unread ? notRead : "no event seen");
    const connection = unread
      ? notRead
      : s.connected === true
        ? `connected to ${s.account ?? "(account not named in GHES's audit log)"} since ${when(s.since as string)} by @${s.by}`
        : s.connected === false
          ? `not connected: disabled ${when(s.disconnectedAt as string)} by @${s.disconnectedBy}`
          : "no `dotcom_connection` event in GHES's audit log: never connected, or before what the log keeps";
    const features = FEATURES.filter((f) => !f.providedByBot)
      .map((f) => {
        const events = FEATURE_EVENTS[f.name];
        const last = byName.get(f.name);
        const governed = last?.changedAt
          ? `${last.enabled ? "on" : "off"} since ${when(last.changedAt)}${last.changedBySlack ? ` (by <@${last.changedBySlack}>, through ghconnect)` : ""}`
          : "no change through ghconnect";
        return `${f.name}: ${governed}; ${events?.enable ? "no event seen yet" : "GitHub publishes no audit event for it"}`;
      })
      .join(" · ");
    const lookLine = !look
      ? notRead
      : look.problem
        ? `⚠️ could not read GHES's audit log at ${when(look.at)}: ${look.problem}${look.okAt ? ` (last read ${when(look.okAt)})` : ""}`
        : `audit log read ${when(look.at)}`;
    return [
      { kind: "header", text: "GHES's own GitHub Connect" },
      {
        kind: "fields",
        fields: [
          ["Connection", connection],
          ["Token last updated", seen(s.tokenUpdatedAt)],
          ["License usage last uploaded", seen(s.licenseUploadedAt)],
          ["Usage metrics last uploaded", seen(s.metricsUploadedAt)],
        ],
      },
      { kind: "text", text: `*Native features:* ${features}` },
      { kind: "context", text: `Enterprise \`${enterprise}\` · ${lookLine} · settings: ${settings}` },
    ];
  }
}
