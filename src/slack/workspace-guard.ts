// A correctly signed request proves it came from Slack for this app's signing secret, not that
// it came from the workspace this bot serves: a distributed or org-wide app, or a signing secret
// reused by a second app, would let another workspace's people drive a bot that changes this
// GHES. This Bolt middleware (HTTP and Socket Mode alike) lets a request through only when its
// workspace is this bot's (SLACK_TEAM_ID, else what auth.test reported) and, when SLACK_APP_ID
// is set, its api_app_id is this app. Anything else is answered, changes nothing, and is audited.
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Logger } from "pino";
import type { AuditInput } from "../core/audit.js";
import type { Notifier } from "../core/ports.js";
import { foreignRequestMessage, unverifiedWorkspaceMessage } from "../core/replies.js";
import type { AuditOnce } from "./dedupe.js";
import { ephemeral } from "./render.js";

/** The workspace this bot serves: one workspace, or a whole Enterprise Grid organization. */
export interface HomeWorkspace {
  teamId?: string;
  enterpriseId?: string;
  /** Installed org-wide: every workspace of `enterpriseId` is home. */
  orgWide: boolean;
}

/** Where a request says it comes from (the fields Bolt itself reads to authorize it). */
export interface RequestOrigin {
  kind: string;
  teamId?: string;
  enterpriseId?: string;
  appId?: string;
  userId?: string;
}

/** How long a request may wait for auth.test at start-up before it is refused as unverified. */
export const HOME_WAIT_MS = 1000;

/** SLACK_TEAM_ID as a home: a T… workspace, or an E… organization (org-wide install). */
export function configuredHome(teamId: string | undefined): HomeWorkspace | undefined {
  if (!teamId) return undefined;
  return teamId.startsWith("E") ? { enterpriseId: teamId, orgWide: true } : { teamId, orgWide: false };
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const obj = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});

/**
 * Slash commands carry `team_id` and `enterprise_id`; interactions carry `team.id` (null for an
 * org-wide install, then `user.team_id`) and `enterprise.id` (or `team.enterprise_id`).
 */
export function requestOrigin(body: Record<string, unknown>): RequestOrigin {
  if (typeof body.command === "string") {
    return {
      kind: "command",
      teamId: str(body.team_id),
      enterpriseId: str(body.enterprise_id),
      appId: str(body.api_app_id),
      userId: str(body.user_id),
    };
  }
  const team = obj(body.team);
  const user = obj(body.user);
  return {
    kind: str(body.type) ?? "unknown",
    teamId: str(team.id) ?? str(user.team_id),
    enterpriseId: str(obj(body.enterprise).id) ?? str(team.enterprise_id),
    appId: str(body.api_app_id),
    userId: str(user.id),
  };
}

/** Why a request is not this bot's to act on, or undefined when it is. */
export function foreignReason(origin: RequestOrigin, home: HomeWorkspace, appId: string | undefined): string | undefined {
  const ours = home.orgWide
    ? !!origin.enterpriseId && origin.enterpriseId === home.enterpriseId
    : !!origin.teamId && origin.teamId === home.teamId;
  if (!ours) return "another workspace";
  if (appId && origin.appId !== appId) return "another app";
  return undefined;
}

export function workspaceGuard(deps: {
  /** SLACK_TEAM_ID, when set; it wins over auth.test. */
  configured?: HomeWorkspace;
  /** What auth.test reported, waiting at most `waitMs` for it. */
  learned: (waitMs: number) => Promise<HomeWorkspace | undefined>;
  appId?: string;
  notifier: Pick<Notifier, "reply">;
  /** Schedules the audit entry's write like other answers given in the ack (batched). */
  record: (work: () => Promise<void>) => Promise<void>;
  log: Logger;
}): Middleware<AnyMiddlewareArgs> {
  let mismatchChecked = false;
  return async (args) => {
    const { body, context, next } = args;
    const origin = requestOrigin(body as Record<string, unknown>);
    const home = deps.configured ?? (await deps.learned(HOME_WAIT_MS));
    if (deps.configured && !mismatchChecked) {
      // A bot token of another workspace than SLACK_TEAM_ID names is a configuration error: said once.
      const learned = await deps.learned(0);
      if (learned) {
        mismatchChecked = true;
        if (foreignReason({ kind: "auth.test", ...learned }, deps.configured, undefined))
          deps.log.error({ configured: deps.configured, botToken: learned }, "SLACK_TEAM_ID is not the workspace of SLACK_BOT_TOKEN");
      }
    }
    const reason = home ? foreignReason(origin, home, deps.appId) : "workspace not confirmed yet";
    if (!reason) return next();

    const message = home ? foreignRequestMessage() : unverifiedWorkspaceMessage();
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    const responseUrl = str((body as Record<string, unknown>).response_url);
    if (origin.kind === "command") await ack?.(ephemeral(message));
    else {
      await ack?.();
      if (responseUrl) void deps.notifier.reply(responseUrl, message);
    }
    deps.log.warn({ reason, team: origin.teamId, enterprise: origin.enterpriseId, app: origin.appId }, "refused a Slack request");
    const entry: AuditInput = {
      actor: { slack: origin.userId ?? null },
      action: home ? "slack.foreign_request" : "slack.unverified_request",
      target: origin.teamId ?? origin.enterpriseId ?? null,
      outcome: "refused",
      // Where it came from, never what it said.
      details: {
        reason,
        kind: origin.kind,
        team: origin.teamId ?? null,
        enterprise: origin.enterpriseId ?? null,
        app: origin.appId ?? null,
      },
    };
    const auditOnce = context.auditOnce as AuditOnce;
    void deps.record(async () => {
      try {
        await auditOnce(entry);
      } catch (error) {
        deps.log.error({ err: error }, "could not audit a refused Slack request");
      }
    });
  };
}
