// The Server Statistics feature: GHES's statistics posted to the admin channel (daily once turned
// on, or now with `feature run server-statistics`) and kept for trends.
import { randomUUID } from "node:crypto";
import { unavailableOnTarget } from "./github-hosts.js";
import { type Message, simpleMessage } from "./message.js";
import type { FlowStore, GhesGateway, Notifier } from "./ports.js";

export interface ServerStatisticsDeps {
  store: FlowStore;
  ghes: GhesGateway;
  notifier: Notifier;
  /** Where the GitHub account lives: GHE.com does not offer the feature. */
  githubUrl: string;
}

type Snapshot = Record<string, unknown>;

/** The figures shown, each as [label, group, key] in GHES's statistics. */
const FIGURES: Array<[string, string, string]> = [
  ["Users", "users", "total_users"],
  ["Organizations", "orgs", "total_orgs"],
  ["Repositories", "repos", "total_repos"],
  ["Pull requests", "pulls", "total_pulls"],
  ["Issues", "issues", "total_issues"],
];

const DAY_MS = 24 * 3_600_000;

/** Each figure now, with its change since the previous snapshot when there is one. */
function statisticsFields(now: Snapshot, previous?: { takenAt: string; data: Snapshot }): Array<[string, string]> {
  const pick = (data: Snapshot | undefined, group: string, key: string) =>
    Number((data?.[group] as Snapshot | undefined)?.[key] ?? Number.NaN);
  return FIGURES.map(([label, group, key]): [string, string] => {
    const value = pick(now, group, key);
    const before = pick(previous?.data, group, key);
    const delta = Number.isNaN(before)
      ? ""
      : ` (${value - before >= 0 ? "+" : ""}${value - before} since ${previous ? previous.takenAt.slice(0, 10) : ""})`;
    return [label, `${Number.isNaN(value) ? "?" : value}${delta}`];
  });
}

export class ServerStatistics {
  constructor(private readonly deps: ServerStatisticsDeps) {}

  /** Posts GHES's statistics to the admin channel and keeps them for trends; `bySlack` null for the daily job. */
  async post(bySlack: string | null): Promise<Message> {
    const { store, ghes, notifier } = this.deps;
    const previous = (await store.stats.latest(1))[0];
    const stats = await ghes.stats();
    await store.stats.add(randomUUID(), stats);
    const fields = statisticsFields(stats, previous);
    await notifier.post(notifier.adminChannel, {
      text: "GHES server statistics",
      blocks: [
        { kind: "header", text: "Server statistics" },
        { kind: "fields", fields },
        { kind: "context", text: `From ${new URL(ghes.url).host}; kept for trends.` },
      ],
    });
    await store.appendAudit({
      actor: { slack: bySlack },
      action: "feature.server_statistics",
      target: "server-statistics",
      outcome: "ok",
      details: { users: fields[0]?.[1] },
    });
    return simpleMessage(`Posted the server statistics in <#${notifier.adminChannel}>.`);
  }

  /** The daily statistics job (one replica per day, claimed in the database); true when it posted. */
  async daily(replica: string): Promise<boolean> {
    const { store } = this.deps;
    if (!(await store.features.isEnabled("server-statistics"))) return false;
    // Switched on before GITHUB_URL moved to GHE.com, where GitHub does not offer it.
    if (unavailableOnTarget("server-statistics", this.deps.githubUrl)) return false;
    // Like `feature run server-statistics`: a GitHub Connect feature, so nothing while disconnected.
    if (!(await store.connections.active())) return false;
    if (!(await store.jobs.claim("server-statistics", DAY_MS, replica))) return false;
    await this.post(null);
    return true;
  }
}
