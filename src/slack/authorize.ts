// Bolt learns the bot's identity with auth.test. Bolt's own single-token mode calls it once at
// construction and caches the promise, so one failure (Slack briefly unreachable) would fail
// every later event. Here success is cached, a failure is retried on the next event, and the
// command still runs with the token meanwhile. The same answer tells the workspace guard which
// Slack workspace (or Enterprise Grid organization, for an org-wide install) this bot serves.
import type { Authorize } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import type { HomeWorkspace } from "./workspace-guard.js";

export interface AuthTestAnswer {
  botId?: string;
  botUserId?: string;
  teamId?: string;
  enterpriseId?: string;
  enterpriseInstall: boolean;
}

export function botAuthorize(
  client: WebClient,
  botToken: string,
  log: Logger,
): {
  authorize: Authorize<boolean>;
  warmUp: () => Promise<void>;
  /** What a successful auth.test made elsewhere (the start-up probe) already told. */
  learned: (r: AuthTestAnswer) => void;
  /** The workspace auth.test reported, waiting at most `waitMs` for it when not known yet. */
  home: (waitMs: number) => Promise<HomeWorkspace | undefined>;
} {
  let identity: { botId?: string; botUserId?: string; teamId?: string } | undefined;
  let home: HomeWorkspace | undefined;
  let inFlight: Promise<void> | undefined;
  const learned = (r: AuthTestAnswer) => {
    identity = { botId: r.botId, botUserId: r.botUserId, teamId: r.teamId };
    home = r.enterpriseInstall
      ? { enterpriseId: r.enterpriseId, orgWide: true }
      : { teamId: r.teamId, enterpriseId: r.enterpriseId, orgWide: false };
  };
  const learn = () => {
    inFlight ??= client.auth
      .test()
      .then((r) =>
        learned({
          botId: r.bot_id,
          botUserId: r.user_id,
          teamId: r.team_id,
          enterpriseId: r.enterprise_id,
          enterpriseInstall: r.is_enterprise_install === true,
        }),
      )
      .catch((error) => log.warn({ err: error }, "auth.test failed; will retry on the next Slack request"))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const authorize: Authorize<boolean> = async () => {
    // Never make an ack wait on auth.test: start it, and answer with what is known.
    if (!identity) void learn();
    return { botToken, ...identity };
  };
  const knownHome = async (waitMs: number) => {
    if (home) return home;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([learn(), late]);
    clearTimeout(timer);
    return home;
  };
  return { authorize, warmUp: async () => void (await learn()), learned, home: knownHome };
}
