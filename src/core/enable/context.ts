// What every step of the enable flow shares: its dependencies, the coalesced refusal log, and the
// two ways it tells Slack about an operation (its card in the admin channel, a private reply).
import type { Clock } from "../clock.js";
import { type CardStage, enableCard } from "../enable-card.js";
import { enterpriseAppSettingsUrl } from "../enterprise-registration.js";
import { githubSiteName } from "../github-hosts.js";
import type { Message } from "../message.js";
import type { AccountKind, Operation } from "../model.js";
import type { DotcomGateway, FlowStore, GhesGateway, ManageGateway, Notifier } from "../ports.js";
import type { InfoLog, RefusalLog } from "../refusals.js";
import type { EnablePageUrls } from "./outcome.js";

export interface EnableConfig {
  /** The bot's public URLs of the flow's pages (the web adapter builds them). */
  pages: EnablePageUrls;
  githubUrl: string;
  ghesUrl: string;
  uploadsUrl: string;
  proxy?: string;
  /** Hosts that go direct although HTTPS_PROXY is set. */
  noProxy?: string;
  addendumTtlMs: number;
  githubTtlMs: number;
  /** How long a completion may hold its operation before the sweep ends it (default 2 minutes). */
  completingLeaseMs?: number;
}

export interface EnableDeps {
  store: FlowStore;
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  notifier: Notifier;
  clock: Clock;
  config: EnableConfig;
  /** Where refusals of the GitHub pages that are only counted (not audited one by one) are logged. */
  log?: InfoLog;
}

/** The flow's dependencies with the refusal log built over them; one per EnableFlow. */
export interface EnableContext {
  readonly deps: EnableDeps;
  readonly refusals: RefusalLog;
  now(): Date;
}

/**
 * Long enough for the GitHub calls of a completion (code exchange, owner check, installation,
 * token) with their retries; short enough that a replica dying there blocks enabling for minutes,
 * not the operation's hour.
 */
export const COMPLETING_LEASE_MS = 2 * 60_000;

export function completingLeaseMs(ctx: EnableContext): number {
  return ctx.deps.config.completingLeaseMs ?? COMPLETING_LEASE_MS;
}

/** The app's settings page, where an owner deletes the registration (GitHub has no API for that). */
export function settingsUrl(ctx: EnableContext, owner: string, slug: string, kind: AccountKind = "organization"): string {
  const { githubUrl } = ctx.deps.config;
  if (kind === "enterprise") return enterpriseAppSettingsUrl(githubUrl, owner, slug);
  return `${githubUrl}/organizations/${owner}/settings/apps/${slug}`;
}

/** True when Slack took the update (a page may then say "Slack has the details"). */
export async function updateCard(ctx: EnableContext, op: Operation, stage: CardStage): Promise<boolean> {
  if (!op.card) return false;
  return ctx.deps.notifier.update(op.card, enableCard(op, stage, githubSiteName(ctx.deps.config.githubUrl))).catch(() => false);
}

export async function replyToRequester(ctx: EnableContext, op: Operation, message: Message): Promise<boolean> {
  if (!op.responseUrl) return false;
  return ctx.deps.notifier.reply(op.responseUrl, message).catch(() => false);
}
