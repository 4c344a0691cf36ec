// Unified search: issues and pull requests on GHES and in the connected organization, asked in
// parallel within a 2-second budget each, merged and ranked; a side that fails or is slow is
// named and the other side's results are still shown. Each side is asked with the searcher's own
// linked token, so they see exactly what they may; the bot's site-admin token and the
// installation token are never used here. A side not linked is skipped with a prompt.

import { NotConnected, UserError } from "./errors.js";
import type { LinkSide } from "./identity.js";
import type { TokenForSearch } from "./link.js";
import type { Block, Message } from "./message.js";
import type { Connection } from "./model.js";
import type { DotcomGateway, FlowStore, SearchHit } from "./ports.js";

export const SEARCH_BUDGET_MS = 2000;
const SHOWN = 10;

export interface SearchDeps {
  ghesUrl: string;
  /** GHES search with the person's own token. */
  searchGhes(token: string, query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]>;
  dotcom: DotcomGateway;
  activeConnection(): Promise<Connection | undefined>;
  featureEnabled(name: string): Promise<boolean>;
  /** The searcher's own token on that side. */
  personToken(side: LinkSide): Promise<TokenForSearch>;
}

/** Why a side was skipped, as the one line the searcher reads. */
function skippedLine(side: LinkSide, why: Exclude<TokenForSearch, { ok: true }>["why"], where: string): string {
  const name = side === "ghes" ? `GHES (${where})` : `GitHub (${where})`;
  if (why === "expired") return `🔗 ${name} skipped: your link has expired — run \`/ghconnect link\` to sign in again.`;
  return `🔗 ${name} skipped: link your account with \`/ghconnect link\` to search it as yourself.`;
}

export interface SearchOutcome {
  message: Message;
  counts: { ghes: number | string; github: number | string };
}

/** Ranks hits from both sides: each side's scores are scaled to its best hit, then newest first. */
export function mergeHits(ghes: SearchHit[], github: SearchHit[]): SearchHit[] {
  const scaled = (hits: SearchHit[]) => {
    const best = Math.max(...hits.map((h) => h.score), 0) || 1;
    return hits.map((h) => ({ hit: h, rank: h.score / best }));
  };
  return [...scaled(ghes), ...scaled(github)]
    .sort((a, b) => b.rank - a.rank || Date.parse(b.hit.updatedAt) - Date.parse(a.hit.updatedAt))
    .map((x) => x.hit);
}

function describeFailure(error: unknown, who: string, budgetMs: number): string {
  const e = error as { name?: string; message?: string; status?: number };
  if (e?.name === "TimeoutError" || e?.name === "AbortError" || /aborted|timeout/i.test(e?.message ?? ""))
    return `${who} did not answer within ${budgetMs / 1000} s`;
  if (typeof e?.status === "number") return `${who} answered ${e.status}`;
  return `${who} failed: ${(e?.message ?? "unknown error").slice(0, 120)}`;
}

/** A side's search: its hits, failed (with why), or skipped because the person has no usable link there. */
type SideOutcome =
  | { kind: "hits"; hits: SearchHit[] }
  | { kind: "failed"; reason: unknown }
  | { kind: "skipped"; why: Exclude<TokenForSearch, { ok: true }>["why"] };

export async function unifiedSearch(deps: SearchDeps, query: string): Promise<SearchOutcome> {
  const connection = await requireSearchable(deps);
  const budget = SEARCH_BUDGET_MS;
  const [ghes, github] = await Promise.all([
    searchSide(deps.personToken("ghes"), (token) => deps.searchGhes(token, query, SHOWN, AbortSignal.timeout(budget))),
    searchSide(deps.personToken("github"), (token) =>
      deps.dotcom.searchIssues(token, githubScope(connection), query, SHOWN, AbortSignal.timeout(budget)),
    ),
  ]);
  return searchMessage({ query, org: connection.org, ghesHost: new URL(deps.ghesUrl).host, budget, ghes, github });
}

/** Search needs the connection and the feature turned on. */
async function requireSearchable(deps: SearchDeps): Promise<Connection> {
  const connection = await deps.activeConnection();
  if (!connection)
    throw new NotConnected(
      "Unified search needs a connection to GitHub, and this server is not connected.",
      "An admin can connect it with `/ghconnect enable ORG`.",
    );
  if (!(await deps.featureEnabled("unified-search"))) {
    throw new UserError("Unified search is off.", "An admin can turn it on with `/ghconnect feature enable unified-search`.");
  }
  return connection;
}

/**
 * An enterprise connection searches the organizations its app is installed on (GitHub's search
 * has no enterprise qualifier).
 */
function githubScope(connection: Connection): string | string[] {
  return connection.accountKind === "enterprise" && connection.installedOn?.length ? connection.installedOn : connection.org;
}

/** One side, as the person: a token that could not be read (say, GitHub failing a refresh) fails its side only. */
async function searchSide(token: Promise<TokenForSearch>, search: (token: string) => Promise<SearchHit[]>): Promise<SideOutcome> {
  try {
    const t = await token;
    if (!t.ok) return { kind: "skipped", why: t.why };
    return { kind: "hits", hits: await search(t.token) };
  } catch (reason) {
    return { kind: "failed", reason };
  }
}

function searchMessage(s: {
  query: string;
  org: string;
  ghesHost: string;
  budget: number;
  ghes: SideOutcome;
  github: SideOutcome;
}): SearchOutcome {
  const { query, org, ghesHost, budget, ghes, github } = s;
  const hitsOf = (side: SideOutcome) => (side.kind === "hits" ? side.hits : []);
  const merged = mergeHits(hitsOf(ghes), hitsOf(github)).slice(0, SHOWN);
  const label = (h: SearchHit) => (h.source === "ghes" ? "GHES" : org);
  const lines = merged.map(
    (h) =>
      `• \`${label(h)}\` <${h.url}|${h.repo}#${h.number}> ${h.title.replace(/[<>]/g, "")} _(${h.state} ${h.isPullRequest ? "pull request" : "issue"})_`,
  );
  const skipped = [
    ghes.kind === "skipped" ? skippedLine("ghes", ghes.why, ghesHost) : undefined,
    github.kind === "skipped" ? skippedLine("github", github.why, org) : undefined,
  ].filter(Boolean) as string[];
  const problems = [
    ghes.kind === "failed" ? `⚠️ ${describeFailure(ghes.reason, `GHES (${ghesHost})`, budget)}; showing ${org} only.` : undefined,
    github.kind === "failed" ? `⚠️ ${describeFailure(github.reason, `GitHub (${org})`, budget)}; showing GHES only.` : undefined,
  ].filter(Boolean) as string[];
  const blocks: Block[] = [{ kind: "text", text: `*Search:* ${query.replace(/[<>*`]/g, "")}` }];
  if (problems.length || skipped.length) blocks.push({ kind: "text", text: [...skipped, ...problems].join("\n") });
  blocks.push({ kind: "text", text: lines.length ? lines.join("\n") : "No issues or pull requests match." });
  const count = (side: SideOutcome) =>
    side.kind === "skipped" ? `skipped (${side.why})` : side.kind === "hits" ? side.hits.length : "failed";
  const counts = { ghes: count(ghes), github: count(github) };
  blocks.push({ kind: "context", text: `GHES: ${counts.ghes} · ${org} on GitHub: ${counts.github} · showing ${merged.length}` });
  return { message: { text: `Search: ${lines.length} results`, blocks }, counts };
}

export interface SearchCommandDeps {
  store: Pick<FlowStore, "connections" | "features" | "appendAudit">;
  ghesUrl: string;
  dotcom: DotcomGateway;
  /** The searcher's own linked token on a side (search never uses the bot's tokens). */
  personToken(slackUserId: string, side: LinkSide): Promise<TokenForSearch>;
  /** GHES search with a person's token. */
  personSearchGhes: SearchDeps["searchGhes"];
}

/** `/ghconnect search QUERY`: anyone, as themselves; audited with the query and each side's count. */
export class SearchCommand {
  constructor(private readonly deps: SearchCommandDeps) {}

  async run(query: string, slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const outcome = await unifiedSearch(
      {
        ghesUrl: this.deps.ghesUrl,
        searchGhes: this.deps.personSearchGhes,
        dotcom: this.deps.dotcom,
        activeConnection: () => store.connections.active(),
        featureEnabled: (n) => store.features.isEnabled(n),
        personToken: (side) => this.deps.personToken(slackUserId, side),
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
}
