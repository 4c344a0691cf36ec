// The completion of an enable, once the installer came back with the flow's own state: the
// operation claimed under a short lease, then named steps — prove the installer with the code
// GitHub gave them (verifyInstaller), check the installation with the app's own key
// (verifyInstallation), mint the token and build the record (buildConnection), and write it in
// the transaction that also uses the state (completeConnection). Every write is fenced by the
// claim, so a completion that lost its lease stores nothing.
import { randomUUID } from "node:crypto";
import type { Actor } from "../audit.js";
import { accountName, enableArgument, when } from "../enable-card.js";
import { installationsAtCompletion } from "../enterprise-installations.js";
import { GitHubFlowRefused, UserError } from "../errors.js";
import { githubSiteName } from "../github-hosts.js";
import { simpleMessage } from "../message.js";
import type { NewConnectionRecord, Operation } from "../model.js";
import type { AppCredentials, TokenCache } from "../ports.js";
import { withinDeadline } from "../preflight.js";
import { completingLeaseMs, type EnableContext, replyToRequester, settingsUrl, updateCard } from "./context.js";
import { endOperation, failPage } from "./end.js";
import type { InstalledApp } from "./keep-app.js";
import { type PageOutcome, pageText } from "./outcome.js";
import { statusExplanation } from "./wording.js";

type ConnectionRecord = NewConnectionRecord & { tokenExpiresAt: string; installationId: number };

/** A setup request carrying the flow's own state, for an operation waiting for its installation. */
export interface SetupReturn {
  op: Operation & { app: InstalledApp };
  state: string;
  code: string;
  installationId: number;
}

/** A claimed return: `waitingUntil` is when the operation's wait ends should it be handed back. */
type ClaimedReturn = SetupReturn & { waitingUntil: string };

/** Why the installer or the installation was not accepted: said on the page, the card and to the requester. */
interface Rejection {
  rejected: { reason: string; hint: string };
}

type Installation = NonNullable<Awaited<ReturnType<EnableContext["deps"]["dotcom"]["installation"]>>>;

/** How long the completion waits for the installer token's revocation before going on without it. */
const REVOKE_WAIT_MS = 3000;

/** The token cache, in memory: the completing transaction stores what was minted, or nothing. */
class CapturedToken implements TokenCache {
  value: string | undefined;
  async get(): Promise<undefined> {
    return undefined;
  }
  async set(minted: { token: string }): Promise<void> {
    this.value = minted.token;
  }
}

/** awaiting_install → completing, leased: if this replica dies, the sweep ends it at the lease's end. */
export async function claimCompletion(ctx: EnableContext, op: Operation): Promise<Operation | undefined> {
  const leaseUntil = new Date(ctx.now().getTime() + completingLeaseMs(ctx));
  const claimed = await ctx.deps.store.operations.transition(
    op.id,
    ["awaiting_install"],
    { status: "completing", expiresAt: leaseUntil },
    op.version,
  );
  if (claimed) await updateCard(ctx, claimed, { kind: "completing" });
  return claimed;
}

/** The claimed operation to its end: exchange, verify, connect. Every write is fenced by the claim. */
export async function complete(ctx: EnableContext, ret: ClaimedReturn): Promise<PageOutcome> {
  const { dotcom } = ctx.deps;
  const { op } = ret;
  const app = op.app;
  const actor: Actor = { slack: op.requestedBySlack, ghes: op.requestedByGhes };
  const appLink = settingsUrl(ctx, app.owner, app.slug, op.accountKind);
  const fail = (reason: string, hint: string) =>
    failPage(ctx, { op, actor, action: "enable.installed", reason, hint, link: { href: appLink, label: `Delete ${app.slug} on GitHub` } });
  try {
    const secrets = await appSecrets(ctx, op);
    let userToken: string;
    try {
      userToken = await dotcom.exchangeOAuthCode(app.clientId, secrets.clientSecret, ret.code);
    } catch (error) {
      return await handBack(ctx, ret, error);
    }
    // The installer's token proves who they are and what they own, once: it is revoked as soon as
    // that is known, so nothing of theirs stays usable at GitHub for its 8 hours.
    let installer: Awaited<ReturnType<typeof verifyInstaller>>;
    try {
      const githubUser = await dotcom.currentUser(userToken);
      actor.github = githubUser.login;
      // With the flow's own state and a code GitHub accepted, these are proven facts about this
      // installation, not something a stranger can make up: the attempt fails.
      installer = await verifyInstaller(ctx, { op, userToken, login: githubUser.login, appLink });
    } finally {
      const revoking = dotcom.revokeUserToken(app.clientId, secrets.clientSecret, userToken).catch((error: unknown) => {
        ctx.deps.log?.info(
          { err: error, operation: op.id },
          "could not revoke the installer's user token; it expires by itself within 8 hours",
        );
      });
      // Waited for briefly, then left to finish on its own: GitHub slow on a revocation (a timeout
      // and retries, tens of seconds) must not hold the person's page or the completion's lease.
      // (The deadline's signal is not passed on: the revocation itself is not cut short.)
      await withinDeadline(REVOKE_WAIT_MS, () => revoking).catch(() => undefined);
    }
    if ("rejected" in installer) return await fail(installer.rejected.reason, installer.rejected.hint);
    const credentials = { appId: app.id, privateKey: secrets.privateKey };
    const installation = await verifyInstallation(ctx, { ret, credentials, allowed: installer.organizations, appLink });
    if ("rejected" in installation) return await fail(installation.rejected.reason, installation.rejected.hint);
    const built = await buildConnection(ctx, {
      op,
      credentials,
      installation,
      installationId: ret.installationId,
      githubLogin: actor.github as string,
      appLink,
    });
    return await completeConnection(ctx, { op, state: ret.state, actor, ...built, installedOn: installation.account });
  } catch (error) {
    if (!(error instanceof UserError)) {
      await endOperation(ctx, {
        op,
        status: "failed",
        actor,
        action: "enable.installed",
        details: { reason: (error as Error).message },
        error: "internal error",
        version: op.version,
      }).catch(() => {});
      throw error;
    }
    return fail(error.message, `${error.hint ?? ""} Delete the app created for this attempt at ${appLink}.`.trim());
  }
}

/** The app's client secret and private key, kept when the app was created or registered. */
async function appSecrets(ctx: EnableContext, op: Operation): Promise<{ clientSecret: string; privateKey: string }> {
  const owner = { operationId: op.id };
  const clientSecret = (await ctx.deps.store.credentials.get(owner, "client_secret"))?.secret;
  const privateKey = (await ctx.deps.store.credentials.get(owner, "private_key"))?.secret;
  if (!clientSecret || !privateKey)
    throw new UserError("The app's credentials are missing from the database.", "Run `/ghconnect enable` again.");
  return { clientSecret, privateKey };
}

/**
 * The installer, proven by their own user token: an active admin of the organization
 * (`GET /user/memberships/orgs/{org}`), or an owner of the enterprise (GraphQL
 * `enterprise(slug:) { viewerIsAdmin }`). For an enterprise, also the organizations its app may
 * be installed on ("can only be installed on organizations within the enterprise").
 */
async function verifyInstaller(
  ctx: EnableContext,
  input: { op: Operation; userToken: string; login: string; appLink: string },
): Promise<{ organizations: string[] } | Rejection> {
  const { op, userToken, login, appLink } = input;
  const { dotcom } = ctx.deps;
  if (op.accountKind === "enterprise") {
    const view = await dotcom.enterprise(userToken, op.org);
    if (!view.exists)
      return {
        rejected: {
          reason: `${op.org} is not an enterprise account that the github.com user ${login} can see, so the installation was not accepted and nothing was stored.`,
          hint: `Check the slug (it is the last part of github.com/enterprises/SLUG), then run \`/ghconnect enable enterprise:SLUG\` again, signed in as an owner of the enterprise. Delete the app registered for this attempt at ${appLink}.`,
        },
      };
    if (!view.viewerIsAdmin)
      return {
        rejected: {
          reason: `The github.com user ${login} is not an owner of the enterprise ${op.org} (owning one of its organizations is not enough), so the installation was not accepted and nothing was stored.`,
          hint: `An owner of the enterprise ${op.org} must install the app: run \`/ghconnect enable enterprise:${op.org}\` again. Delete the app registered for this attempt at ${appLink}.`,
        },
      };
    return { organizations: view.organizations.map((o) => o.toLowerCase()) };
  }
  const membership = await dotcom.membership(userToken, op.org);
  if (membership?.state !== "active" || membership.role !== "admin")
    return {
      rejected: {
        reason: `The github.com user ${login} is not an owner of ${op.org}${membership ? ` (their role is ${membership.state} ${membership.role})` : ""}, so the installation was not accepted and nothing was stored.`,
        hint: `An owner of ${op.org} must install the app: run \`/ghconnect enable ${enableArgument(op)}\` again and sign in to github.com as an owner. Delete the app created for this attempt at ${appLink}.`,
      },
    };
  return { organizations: [op.org.toLowerCase()] };
}

/** The installation, as GitHub shows it to the app's own key: this app's, on an account the installer may install on. */
async function verifyInstallation(
  ctx: EnableContext,
  input: { ret: ClaimedReturn; credentials: AppCredentials; allowed: string[]; appLink: string },
): Promise<Installation | Rejection> {
  const { ret, appLink } = input;
  const { op, installationId } = ret;
  const installation = await ctx.deps.dotcom.installation(input.credentials, installationId);
  if (!installation) {
    return {
      rejected: {
        reason: `Installation ${installationId} does not exist for the app ${op.app.slug} (GitHub says so with the app's own key). The link may have been tampered with; nothing was stored.`,
        hint: `Run \`/ghconnect enable ${enableArgument(op)}\` again. Delete the app created for this attempt at ${appLink}.`,
      },
    };
  }
  if (installation.onEnterprise) {
    return {
      rejected: {
        reason: `Installation ${installationId} is on the enterprise ${installation.account} itself, where an app gets only enterprise permissions; GitHub Connect needs it on an organization of the enterprise. Nothing was stored.`,
        hint: `Run \`/ghconnect enable ${enableArgument(op)}\` again and install the app on one of the enterprise's organizations (installing it on the enterprise too is optional). Delete the app registered for this attempt at ${appLink}.`,
      },
    };
  }
  if (!input.allowed.includes(installation.account.toLowerCase())) {
    return {
      rejected: {
        reason: `Installation ${installationId} belongs to ${installation.account}, not ${op.accountKind === "enterprise" ? `an organization of the enterprise ${op.org}` : op.org}; nothing was stored.`,
        hint: `Run \`/ghconnect enable ${enableArgument(op)}\` again. Delete the app created for this attempt at ${appLink}.`,
      },
    };
  }
  return installation;
}

/**
 * The installation token and the connection's record. The minted token is held in memory and
 * stored by the completing transaction, so a completion that lost its lease stores nothing at all.
 */
async function buildConnection(
  ctx: EnableContext,
  input: {
    op: Operation & { app: InstalledApp };
    credentials: AppCredentials;
    installation: Installation;
    installationId: number;
    githubLogin: string;
    appLink: string;
  },
): Promise<{ record: ConnectionRecord; cachedToken: string | undefined }> {
  const { op, credentials, installation, installationId } = input;
  const { dotcom } = ctx.deps;
  const minted = new CapturedToken();
  const token = await dotcom.installationToken(credentials, installationId, minted);
  const facts = op.facts;
  if (!facts) throw new UserError("The preflight facts of this operation are missing.", "Run `/ghconnect enable` again.");
  const connectedAt = ctx.now().toISOString();
  // The installer is a proven owner of the enterprise here: the installations listed now are the
  // only ones the connection may later move to (see enterprise-installations.ts).
  const listed = op.accountKind === "enterprise" ? await installationsAtCompletion(dotcom, credentials, installationId) : null;
  const record: ConnectionRecord = {
    id: randomUUID(),
    accountKind: op.accountKind,
    org: op.org,
    // An enterprise connection's installation is on one of its organizations, not the enterprise.
    accountId: op.accountKind === "enterprise" ? null : installation.accountId,
    installedOn: listed?.organizations ?? null,
    trustedInstallations: listed?.trusted ?? null,
    appId: op.app.id,
    appSlug: op.app.slug,
    appName: op.appName,
    appClientId: op.app.clientId,
    appSettingsUrl: input.appLink,
    installationId,
    facts,
    connectedBy: { slack: op.requestedBySlack, ghes: op.requestedByGhes ?? "", github: input.githubLogin },
    connectedAt,
    tokenExpiresAt: token.expiresAt,
    lastGithubOkAt: connectedAt,
    operationId: op.id,
  };
  return { record, cachedToken: minted.value };
}

/** The connection written (or, if the operation was ended meanwhile, nothing), then announced. */
async function completeConnection(
  ctx: EnableContext,
  input: { op: Operation; state: string; record: ConnectionRecord; actor: Actor; cachedToken: string | undefined; installedOn: string },
): Promise<PageOutcome> {
  const done = await writeConnection(ctx, input);
  if (!done) {
    const now = await ctx.deps.store.operations.get(input.op.id);
    return {
      kind: "refused",
      refusal: "too_late",
      title: "Not completed",
      message: `${now ? statusExplanation(now) : "This request no longer exists."} This completion came too late (the operation was ended meanwhile), so nothing was stored.`,
    };
  }
  return announceConnected(ctx, done, input.record, input.installedOn);
}

/** GitHub refused the code: the operation waits for its installation again, the state still usable. */
async function handBack(ctx: EnableContext, ret: ClaimedReturn, error: unknown): Promise<PageOutcome> {
  const { store, config } = ctx.deps;
  const { op } = ret;
  const app = op.app;
  const why = error instanceof UserError ? error.message : "GitHub's answer to the code exchange could not be read.";
  // GitHub said no to the code (wrong, expired, used) vs. GitHub could not be asked: either way the
  // installer is unproven, so the operation waits again.
  const refusal = error instanceof GitHubFlowRefused ? "authorization_refused" : "authorization_unverified";
  const back = await store.transaction(async (tx) => {
    const moved = await tx.operations.transition(
      op.id,
      ["completing"],
      { status: "awaiting_install", expiresAt: new Date(ret.waitingUntil) },
      op.version,
    );
    if (moved)
      await tx.audit.append({
        actor: { slack: null },
        action: "enable.setup_refused",
        target: op.org,
        outcome: "refused",
        details: { refusal, reason: why, operation: op.id },
      });
    return moved;
  });
  if (!(error instanceof UserError)) throw error;
  if (!back) {
    const now = await store.operations.get(op.id);
    return {
      kind: "refused",
      refusal: "too_late",
      ...pageText("Not completed", `${now ? statusExplanation(now) : "This request no longer exists."} Nothing was stored.`),
    };
  }
  await updateCard(ctx, back, { kind: "installing", appSlug: app.slug, appUrl: `${config.githubUrl}/apps/${app.slug}` });
  return {
    kind: "refused",
    refusal,
    ...pageText(
      refusal === "authorization_refused" ? "GitHub refused the authorization" : "GitHub could not check the authorization",
      `${why.replace(/ Nothing was stored\.$/, "")} Nothing was changed: the enable of ${op.org} still waits for its installation, until ${when(ret.waitingUntil)}. Open the installation page again, signed in to github.com as an owner of ${op.org}; GitHub sends you back here with a fresh code.`,
      {
        href: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(ret.state)}`,
        label: "Install again on GitHub",
      },
    ),
  };
}

/** The connection, the operation's success, its credentials and its state's use: one transaction. */
async function writeConnection(
  ctx: EnableContext,
  input: { op: Operation; state: string; record: ConnectionRecord; actor: Actor; cachedToken: string | undefined },
): Promise<Operation | undefined> {
  const { op, record } = input;
  const facts = record.facts;
  return ctx.deps.store.transaction(async (tx) => {
    const finished = await tx.operations.transition(
      op.id,
      ["completing"],
      { status: "succeeded", githubLogin: record.connectedBy.github, installationId: record.installationId },
      op.version,
    );
    if (!finished) return undefined;
    const used = await tx.states.consume(input.state, "install");
    // Only the holder of the claim reaches this line, and only it uses the state.
    if (!used.ok) throw new Error(`the install state of operation ${op.id} was ${used.reason} under a held claim`);
    await tx.connections.insertActive(record);
    if (input.cachedToken)
      await tx.credentials.put({ operationId: op.id }, "installation_token", input.cachedToken, new Date(record.tokenExpiresAt));
    await tx.credentials.transfer(op.id, record.id);
    await tx.states.dropForOperation(op.id);
    await tx.audit.append({
      actor: input.actor,
      action: "enable.connected",
      target: op.org,
      outcome: "ok",
      details: {
        operation: op.id,
        connection: record.id,
        account: op.org,
        app_id: record.appId,
        app_slug: record.appSlug,
        installation_id: record.installationId,
        ghes_hostname: facts.ghesHostname,
        ghes_version: facts.ghesVersion,
        license_customer_name: facts.licenseCustomerName,
        license_hash: facts.licenseHash,
        token_expires_at: record.tokenExpiresAt,
        connected_by_github: record.connectedBy.github,
      },
    });
    return finished;
  });
}

/** The card shows the connection, the requester hears of it, and the page says it is done. */
async function announceConnected(ctx: EnableContext, done: Operation, record: ConnectionRecord, installedOn = ""): Promise<PageOutcome> {
  const facts = record.facts;
  const summary: Array<[string, string]> = [
    [done.accountKind === "enterprise" ? "Enterprise" : "Organization", done.org],
    ...(done.accountKind === "enterprise"
      ? ([["Installed on", (record.installedOn ?? [installedOn]).join(", ")]] as Array<[string, string]>)
      : []),
    ["GHES", `${facts.ghesHostname} (${facts.ghesVersion})`],
    ["App", `<${record.appSettingsUrl}|${record.appSlug}> (id ${record.appId})`],
    ["Installation", String(record.installationId)],
    [
      "Connected by",
      `<@${done.requestedBySlack}> · GHES \`${done.requestedByGhes}\` · ${githubSiteName(ctx.deps.config.githubUrl)} \`${record.connectedBy.github}\``,
    ],
    ["License", `${facts.licenseCustomerName}, hash \`${facts.licenseHash.slice(0, 12)}…\``],
    ["Token expires", when(record.tokenExpiresAt)],
  ];
  const carded = await updateCard(ctx, done, { kind: "connected", summary });
  const replied = await replyToRequester(
    ctx,
    done,
    simpleMessage(`✅ Connected ${accountName(done)}. The details are on the card in <#${ctx.deps.notifier.adminChannel}>.`),
  );
  const notified = carded || replied;
  return {
    kind: "connected",
    title: `Connected ${done.org}`,
    message: `${facts.ghesHostname} is now connected to ${done.accountKind === "enterprise" ? `the GitHub enterprise account ${done.org}` : `the GitHub organization ${done.org}`} through the app ${record.appSlug}.${
      notified ? "" : " Slack could not be told just now; `/ghconnect status` in Slack shows the connection."
    }`,
    notified,
  };
}
