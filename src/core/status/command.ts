// `/ghconnect status`: anyone in the admin channel (or any admin elsewhere). Fast: it makes no
// call at all while the last look at GHES is under five minutes old, and after that one look
// (GHES's version) shared by every `status` that finds it stale, so a team's burst right after a
// connect costs GHES one call and is answered in the acks; what it reads from the database is
// shared by a burst too (see recently-read.ts).
import type { AuditInput } from "../audit.js";
import type { Clock } from "../clock.js";
import { NotAuthorized } from "../errors.js";
import { FEATURES } from "../features.js";
import { githubSiteName, unavailableOnTarget } from "../github-hosts.js";
import type { Block, Message } from "../message.js";
import type { FlowStore, GhesGateway, Notifier } from "../ports.js";
import { pendingEntries, pendingSentence } from "../roster.js";
import type { Answer } from "../router.js";
import { RecentlyRead } from "./recently-read.js";
import { statusMessage } from "./view.js";

/** How long a look at GHES (its version) is shown without asking it again. */
export const STATUS_FRESH_MS = 5 * 60_000;

/**
 * How long a look GHES did not answer is shown (with why) to every `status` before GHES is asked
 * again: long enough that a burst does not hammer a GHES in trouble, short enough to see it recover.
 */
export const FAILED_LOOK_SHARED_MS = 30_000;

export interface StatusDeps {
  store: FlowStore;
  ghes: GhesGateway;
  notifier: Notifier;
  clock: Clock;
  /** Where the GitHub account lives (github.com or SUBDOMAIN.ghe.com), named in the view. */
  githubUrl: string;
  /** GHES's own GitHub Connect, as the native watcher last saw it (shown under ghconnect's). */
  nativeStatus?(): Promise<Block[]>;
}

type StatusFacts = Awaited<ReturnType<StatusCommand["readFacts"]>>;

export class StatusCommand {
  private readonly facts: RecentlyRead<StatusFacts>;
  private lastView?: { facts: StatusFacts; reply: Message };
  /** The look at GHES under way or just made (see lookOnce). */
  private look?: Look;

  constructor(private readonly deps: StatusDeps) {
    this.facts = new RecentlyRead(() => this.readFacts(), deps.clock);
  }

  /** `status` after the ack, read afresh, asking GHES first when the last look at it is too old; audited. */
  async show(slackUserId: string, channelId: string): Promise<Message> {
    const answer = await this.answer(slackUserId, channelId, { fresh: true });
    await this.deps.store.appendAudit(answer.audit);
    return answer.reply;
  }

  /**
   * `status` for an answer inside Slack's ack: from what the database said a moment ago, and
   * GHES's answer when the last look at it is too old (the caller gives up waiting after its ack
   * budget and runs `show` after the ack, which shares the same look). Audits nothing: the caller
   * records `audit` once the answer is out.
   */
  showNow(slackUserId: string, channelId: string): Promise<Answer> {
    return this.answer(slackUserId, channelId, { fresh: false });
  }

  /** Something changed (this replica audited a decision): the next `status` reads afresh. */
  forget(): void {
    this.facts.forget();
  }

  private async answer(slackUserId: string, channelId: string, opts: { fresh: boolean }): Promise<Answer> {
    await this.mayView(slackUserId, channelId);
    const read = () => (opts.fresh ? this.readFacts() : this.facts.get());
    let facts = await read();
    let ghesCheckFailed: string | undefined;
    if (facts.active && this.ghesLookIsStale(facts.active.lastCheckedAt)) {
      ghesCheckFailed = await this.lookOnce(facts.active.id);
      // A look GHES answered was recorded: read it. One it did not answer changed nothing.
      if (!ghesCheckFailed) facts = await read();
    }
    const reply = this.view(facts, ghesCheckFailed);
    const audit: AuditInput = {
      actor: { slack: slackUserId },
      action: "command.status",
      target: facts.active?.org ?? null,
      outcome: "ok",
      details: { channel: channelId },
    };
    return { reply, audit };
  }

  private async mayView(slackUserId: string, channelId: string): Promise<void> {
    const { store, notifier } = this.deps;
    if (channelId !== notifier.adminChannel && !(await store.admins.find(slackUserId))) {
      throw new NotAuthorized(`\`status\` is shown in <#${notifier.adminChannel}> and to admins.`, "Run it in the admin channel.");
    }
  }

  private ghesLookIsStale(lastCheckedAt: string | undefined | null): boolean {
    return !lastCheckedAt || this.deps.clock().getTime() - Date.parse(lastCheckedAt) > STATUS_FRESH_MS;
  }

  /**
   * One look at GHES for everyone who finds the last one stale: the look under way (whatever the
   * clock says meanwhile), or the one that just ended — for STATUS_FRESH_MS when GHES answered (it
   * is recorded, so only those who read the facts before that share it), for FAILED_LOOK_SHARED_MS
   * when it did not (nothing is recorded: each `status` meanwhile shows why) — else a new one. What
   * the database said is forgotten once a look ends, so the next read shows it. A look that could
   * not be recorded (the database failed) is not kept: the next `status` asks again.
   */
  private lookOnce(connectionId: string): Promise<string | undefined> {
    const { clock } = this.deps;
    const look = this.look;
    if (look && look.connectionId === connectionId && isShared(look, clock().getTime())) return look.failed;
    const failed = this.lookAtGhes(connectionId).finally(() => this.facts.forget());
    const current: Look = { connectionId, failed };
    this.look = current;
    failed.then(
      (why) => {
        current.ended = { at: clock().getTime(), failed: why !== undefined };
      },
      () => {
        if (this.look === current) this.look = undefined;
      },
    );
    return failed;
  }

  /** Asks GHES its version and records it; when GHES does not answer, says why (for the view) and records nothing. */
  private async lookAtGhes(connectionId: string): Promise<string | undefined> {
    const { store, ghes } = this.deps;
    let version: string;
    try {
      version = await ghes.version();
    } catch (error) {
      return (error as Error).message.slice(0, 160);
    }
    // Not inside the try: a database that cannot record the look is the database's failure, not GHES's.
    await store.connections.noteChecked(connectionId, version);
    return undefined;
  }

  /**
   * The status view of these facts. A burst of `status` while the same facts are cached shares
   * one rendering of them, made when the facts were first shown (at most the cache's age ago: a
   * second, or up to five while the database is slow).
   */
  private view(facts: StatusFacts, ghesCheckFailed?: string): Message {
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
      githubSite: githubSiteName(this.deps.githubUrl),
      notOffered: FEATURES.filter((f) => unavailableOnTarget(f.name, this.deps.githubUrl)).map((f) => f.name),
    });
    // Roster entries that grant nothing yet are named under the status.
    const pending: Block[] = facts.pending.length ? [{ kind: "context", text: `⏳ ${pendingSentence(facts.pending)}` }] : [];
    const reply: Message = { ...base, blocks: [...base.blocks, ...facts.native, ...pending] };
    if (!ghesCheckFailed) this.lastView = { facts, reply };
    return reply;
  }

  private async readFacts() {
    const { store } = this.deps;
    const active = await store.connections.active();
    const [approval, latest, features, inFlight, native, pending] = await Promise.all([
      active ? store.approvals.pendingFor(active.id) : undefined,
      active ? undefined : store.connections.latest(),
      store.features.all(),
      store.operations.inFlight(),
      this.deps.nativeStatus?.() ?? ([] as Block[]),
      pendingEntries(store.admins),
    ]);
    return { active, approval, latest, features, inFlight, native, pending };
  }
}

/** A look at GHES for one connection: its outcome (why it failed, or undefined), and when it ended. */
interface Look {
  connectionId: string;
  failed: Promise<string | undefined>;
  ended?: { at: number; failed: boolean };
}

function isShared(look: Look, now: number): boolean {
  if (!look.ended) return true;
  const age = now - look.ended.at;
  return age >= 0 && age < (look.ended.failed ? FAILED_LOOK_SHARED_MS : STATUS_FRESH_MS);
}
