// `/ghconnect link | unlink | whoami`: a Slack user proves their GHES login and their github.com
// account by signing in (OAuth web flows through single-use, 10-minute links), so that the roster
// and search act on proven people rather than on typed strings. User tokens are sealed at rest,
// refreshed before they expire (github.com), and revoked on unlink and on disconnect.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Actor } from "./audit.js";
import { isProven, TRUSTED_SOURCE } from "./authorize.js";
import type { Clock } from "./clock.js";
import { pageText } from "./enable/outcome.js";
import { when } from "./enable-card.js";
import { UserError } from "./errors.js";
import {
  CodeRefused,
  type LinkSide,
  type OAuthClient,
  type PersonLink,
  type PersonOAuthGateway,
  RefreshRefused,
  SIDE_NAME,
  type UserTokens,
} from "./identity.js";
import type { LinkPageOutcome, LinkPageUrls, LinkRefusalCode } from "./link-outcome.js";
import { type Block, type Message, simpleMessage } from "./message.js";
import type { FlowStore, Notifier } from "./ports.js";
import { type InfoLog, RefusalLog } from "./refusals.js";

export const LINK_TTL_MS = 10 * 60_000;
/** A github.com token this close to its expiry is refreshed before it is used (and by the periodic duty). */
export const REFRESH_AHEAD_MS = 30 * 60_000;

/** Unlinking a side that is not linked. */
export class NotLinked extends UserError {
  override readonly code = "not_linked";
}

/** Inside the link transaction: the unique login index refused the row (another person holds the login). */
class LoginTaken extends Error {}

/** Inside the link transaction: the person's roster entry (added meanwhile) is for another GHES login. */
class WrongLogin extends Error {
  constructor(readonly entryLogin: string) {
    super(`the roster entry is for ${entryLogin}`);
  }
}

export interface LinkDeps {
  store: FlowStore;
  oauth: PersonOAuthGateway;
  notifier: Notifier;
  clock: Clock;
  /** Where the Slack buttons, the confirmation form and the sign-ins' returns point. */
  urls: LinkPageUrls;
  ghesHost: string;
  /** github.com, or SUBDOMAIN.ghe.com on GHE.com: how pages and messages name the GitHub side. */
  githubSite?: string;
  /** Where refused callbacks that are only counted (not audited one by one) are logged. */
  log?: InfoLog;
  /** The Slack workspace the bot serves (its name and id, as auth.test told), for the confirmation page. */
  workspace?: () => string | undefined;
}

export type TokenForSearch = { ok: true; token: string; login: string } | { ok: false; why: "not linked" | "expired" | "other connection" };

export class LinkService {
  private readonly refusals: RefusalLog;

  constructor(private readonly deps: LinkDeps) {
    this.refusals = new RefusalLog({ store: deps.store, log: deps.log });
  }

  /**
   * A link page request whose parameters the web adapter could not accept (repeated, oversized,
   * outside the URL-token alphabet): counted like a forged state. The reason names the parameter only.
   */
  async refuseMalformed(side: LinkSide | "start", reason: string): Promise<void> {
    await this.refusals.record({
      actor: { slack: null },
      action: "link.refused",
      target: side,
      outcome: "refused",
      details: { reason: `malformed: ${reason}` },
    });
  }

  private startUrl(state: string): string {
    return `${this.deps.urls.start}?state=${encodeURIComponent(state)}`;
  }

  /** Looks the start link up without using it: its person and side, or the refusal page. */
  private async startLink(
    state: string | undefined,
  ): Promise<{ ok: true; person: string; side: LinkSide; createdAt: string } | { ok: false; page: LinkPageOutcome }> {
    const { store } = this.deps;
    let check = state ? await store.states.peek(state, "link-ghes") : undefined;
    let side: LinkSide = "ghes";
    if (state && check && !check.ok && check.reason === "wrong_purpose") {
      check = await store.states.peek(state, "link-github");
      side = "github";
    }
    const connected = side === "github" ? (await this.githubClient()) !== undefined : true;
    if (!state || !check?.ok || !connected) {
      const reason = !check ? "missing" : check.ok ? "not connected" : check.reason;
      await this.refusals.record({
        actor: { slack: check?.operationId ?? null },
        action: "link.refused",
        target: check?.operationId ? side : "start",
        outcome: "refused",
        details: { reason: `link ${reason}`, ...(check?.operationId ? { person: check.operationId } : {}) },
      });
      return {
        ok: false,
        page: check?.ok
          ? refused("not_connected", "Not connected", "This server is no longer connected to GitHub. Nothing was linked.")
          : notValidPage(reason),
      };
    }
    return { ok: true, person: check.operationId as string, side, createdAt: check.createdAt };
  }

  /**
   * The start page (GET, with the link's state): the Slack button's target. It changes nothing (a link
   * preview bot, Slack's unfurler, or a person who was forwarded the link may open it): it shows
   * whose link this is, for which side, and warns that continuing gives that Slack user the
   * signed-in GitHub identity. Its form's token is bound to the state and to the browser's name
   * (kept in a SameSite=Lax cookie), so only a POST from this page, in this browser, continues (confirm).
   */
  async start(params: { state?: string; browser?: string }): Promise<LinkPageOutcome> {
    const found = await this.startLink(params.state);
    if (!found.ok) return found.page;
    const state = params.state as string;
    // The browser keeps its name across links (a second tab must not undo the first).
    const nonce = params.browser ?? randomBytes(24).toString("base64url");
    return {
      kind: "confirm",
      person: found.person,
      askedAt: `${new Date(found.createdAt).toISOString().slice(11, 16)} UTC`,
      workspace: this.deps.workspace?.(),
      side: found.side,
      sideLabel: found.side === "ghes" ? `GHES (${this.deps.ghesHost})` : this.site(),
      formAction: this.deps.urls.confirm,
      state,
      token: confirmToken(state, nonce),
      browser: nonce,
    };
  }

  /** How the GitHub side is named: github.com, or SUBDOMAIN.ghe.com. */
  private site(): string {
    return this.deps.githubSite ?? "github.com";
  }

  private sideName(side: LinkSide): string {
    return side === "ghes" ? SIDE_NAME.ghes : this.site();
  }

  /**
   * The confirmation page's form, posted: the page's token (bound to the state
   * and this browser's cookie) and, when the browser sends one, our own Origin are required;
   * then, at once, the start link is used up and a new OAuth state is bound to this browser (the
   * hash of its name with the state is kept; the callback requires both), and the browser goes
   * on to GitHub. A refused POST uses nothing and links nothing.
   */
  async confirm(params: { state?: string; token?: string; browser?: string; origin?: string }): Promise<LinkPageOutcome> {
    const { store, oauth } = this.deps;
    const found = await this.startLink(params.state);
    if (!found.ok) return found.page;
    const state = params.state as string;
    const { person, side } = found;
    const ours = new URL(this.deps.urls.start).origin;
    const why =
      params.origin !== undefined && params.origin !== ours
        ? "link confirmation posted from another site"
        : !params.token || !params.browser || !sameToken(params.token, confirmToken(state, params.browser))
          ? "link confirmation without the page's token"
          : undefined;
    if (why) {
      await this.refusals.record({
        actor: { slack: person },
        action: "link.refused",
        target: side,
        outcome: "refused",
        details: { reason: why, person },
      });
      return refused(
        "not_confirmed",
        "Not confirmed on this page",
        "This sign-in was not confirmed on ghconnect's page in this browser. Nothing was linked. Open the link ghconnect gave you in Slack (/ghconnect link) and continue from its page.",
      );
    }
    const github = side === "github" ? await this.githubClient() : undefined;
    const signin = randomBytes(24).toString("base64url");
    const nonce = params.browser as string;
    const used = await store.transaction(async (tx) => {
      const check = await tx.states.consume(state, side === "ghes" ? "link-ghes" : "link-github");
      if (!check.ok) return check;
      await tx.states.create(signin, person, side === "ghes" ? "link-ghes-signin" : "link-github-signin", LINK_TTL_MS);
      await tx.states.create(bindingKey(signin, nonce), person, "link-bind", LINK_TTL_MS);
      return check;
    });
    if (!used.ok) {
      // Another POST of the same page won the race: the link works once.
      await this.refusals.record({
        actor: { slack: person },
        action: "link.refused",
        target: side,
        outcome: "refused",
        details: { reason: `link ${used.reason}`, person },
      });
      return notValidPage(used.reason);
    }
    const location =
      side === "ghes"
        ? oauth.ghesAuthorizeUrl(signin, this.deps.urls.callback.ghes)
        : oauth.githubAuthorizeUrl((github as { client: OAuthClient }).client, signin, this.deps.urls.callback.github);
    return { kind: "redirect", location, browser: nonce };
  }

  /** The connected app's OAuth client (id and secret), when there is a connection. */
  private async githubClient(): Promise<{ client: OAuthClient; connectionId: string } | undefined> {
    const { store } = this.deps;
    const active = await store.connections.active();
    if (!active?.appClientId) return undefined;
    const secret = await store.credentials.get({ connectionId: active.id }, "client_secret");
    if (!secret) return undefined;
    return { client: { clientId: active.appClientId, clientSecret: secret.secret }, connectionId: active.id };
  }

  /** `link`: one single-use sign-in link per side, valid 10 minutes, shown only to the person. */
  async link(slackUserId: string): Promise<Message> {
    const { store, oauth, clock } = this.deps;
    const github = await this.githubClient();
    const buttons: Array<{ action: string; label: string; url: string }> = [];
    const lines: string[] = [];
    const issued: LinkSide[] = [];
    if (oauth.ghesConfigured) {
      const state = randomBytes(24).toString("base64url");
      await store.states.create(state, slackUserId, "link-ghes", LINK_TTL_MS);
      buttons.push({
        action: "link.ghes",
        label: `Sign in to GHES (${this.deps.ghesHost})`,
        url: this.startUrl(state),
      });
      issued.push("ghes");
    } else {
      lines.push("• GHES: linking is not set up (the operator sets GHES_OAUTH_CLIENT_ID and GHES_OAUTH_CLIENT_SECRET).");
    }
    if (github) {
      const state = randomBytes(24).toString("base64url");
      await store.states.create(state, slackUserId, "link-github", LINK_TTL_MS);
      buttons.push({
        action: "link.github",
        label: `Sign in to ${this.site()}`,
        url: this.startUrl(state),
      });
      issued.push("github");
    } else {
      lines.push(
        `• ${this.site()}: this server is not connected, so there is no app to authorize; link it once an admin runs \`/ghconnect enable ORG\`.`,
      );
    }
    await store.appendAudit({ actor: { slack: slackUserId }, action: "command.link", outcome: "ok", details: { links: issued } });
    const expires = when(new Date(clock().getTime() + LINK_TTL_MS).toISOString());
    const blocks: Block[] = [
      {
        kind: "text",
        text: issued.length
          ? `Prove who you are by signing in. Each link works once and until ${expires}; only you can see them.`
          : "There is nothing to link right now.",
      },
    ];
    if (lines.length) blocks.push({ kind: "text", text: lines.join("\n") });
    if (buttons.length) blocks.push({ kind: "actions", buttons });
    return { text: `Link your GHES and ${this.site()} accounts`, blocks };
  }

  /** The browser's return from a sign-in on `side`. */
  async callback(side: LinkSide, params: { code?: string; state?: string; error?: string; browser?: string }): Promise<LinkPageOutcome> {
    const { store } = this.deps;
    const name = this.sideName(side);
    const check = params.state
      ? await store.states.consume(params.state, side === "ghes" ? "link-ghes-signin" : "link-github-signin")
      : undefined;
    if (!check?.ok) {
      const reason = !check ? "missing" : check.reason;
      // Anyone can send this URL: refusals of the state are counted, one audit entry per side and
      // reason a minute (RefusalLog), naming the person when the link was a real one.
      await this.refusals.record({
        actor: { slack: check?.operationId ?? null },
        action: "link.refused",
        target: side,
        outcome: "refused",
        details: { reason: `link ${reason}`, ...(check?.operationId ? { person: check.operationId } : {}) },
      });
      return notValidPage(reason);
    }
    const slackUserId = check.operationId as string;
    // The browser must be the one that opened the Slack link: checked before the code is
    // exchanged, so a forwarded sign-in issues no token at all.
    const bound =
      params.browser && params.state ? await store.states.consume(bindingKey(params.state, params.browser), "link-bind") : undefined;
    if (!bound?.ok || bound.operationId !== slackUserId) {
      await this.refusals.record({
        actor: { slack: slackUserId },
        action: "link.refused",
        target: side,
        outcome: "refused",
        details: { reason: "link opened in another browser", person: slackUserId },
      });
      return refused(
        "other_browser",
        "Not started in this browser",
        "This sign-in was not started in this browser. Nothing was linked. Start from the link ghconnect gave you in Slack (/ghconnect link), in the same browser you sign in with.",
      );
    }
    const refuse = async (refusal: LinkRefusalCode, reason: string, title: string, actor: Actor = {}) => {
      await store.appendAudit({
        actor: { slack: slackUserId, ...actor },
        action: "link.refused",
        target: side,
        outcome: "refused",
        details: { reason },
      });
      return refused(refusal, title, `${reason} Nothing was linked.`);
    };
    if (!params.code)
      return refuse("cancelled", `The ${name} sign-in was cancelled${params.error ? ` (${params.error})` : ""}.`, "Not linked");
    const github = side === "github" ? await this.githubClient() : undefined;
    if (side === "github" && !github) return refuse("not_connected", "This server is no longer connected to GitHub.", "Not connected");
    let tokens: UserTokens;
    let login: string;
    let ghesUserId: number | undefined;
    try {
      tokens =
        side === "ghes"
          ? await this.deps.oauth.ghesExchange(params.code, this.deps.urls.callback.ghes)
          : await this.deps.oauth.githubExchange((github as { client: OAuthClient }).client, params.code, this.deps.urls.callback.github);
      if (side === "ghes") ({ login, id: ghesUserId } = await this.deps.oauth.ghesUser(tokens.token));
      else login = await this.deps.oauth.githubLogin(tokens.token);
    } catch (error) {
      if (error instanceof CodeRefused) return refuse("code_refused", `${name} refused the sign-in code (${error.reason}).`, "Not linked");
      if (error instanceof UserError) return refuse("code_unverified", error.message, "Not linked");
      throw error;
    }
    const revokeFresh = () => this.revoke(side, tokens.token, github?.client).catch(() => false);
    const actor: Actor = side === "ghes" ? { ghes: login } : { github: login };
    const wrongLogin = async (entryLogin: string) => {
      await revokeFresh();
      return refuse(
        "wrong_login",
        `You signed in as ${login}; this entry is for ${entryLogin}. Sign in to GHES as ${entryLogin}, or ask an admin to fix the entry.`,
        "Wrong GHES login",
        actor,
      );
    };
    if (side === "ghes") {
      const entry = await store.admins.find(slackUserId);
      if (entry && entry.ghesLogin.toLowerCase() !== login.toLowerCase()) return wrongLogin(entry.ghesLogin);
    }
    // What to do is the same whichever way the account is taken.
    const alreadyLinked = async (taken: string) => {
      await revokeFresh();
      return refuse(
        "login_taken",
        `${taken} If that Slack account is yours too, run \`/ghconnect unlink ${side}\` there first; otherwise sign in as your own account.`,
        "Already linked",
        actor,
      );
    };
    const loginTaken = `The ${name} login ${login} is already linked to another Slack user; a login belongs to one person.`;
    const owner = await store.links.ownerOf(side, login);
    if (owner && owner !== slackUserId) return alreadyLinked(loginTaken);
    // The same GHES account under an earlier login (a site admin renamed it) is the same person.
    const account = ghesUserId === undefined ? undefined : await store.links.ownerOfGhesAccount(ghesUserId);
    if (account && account.slackUserId !== slackUserId)
      return alreadyLinked(
        `The GHES account ${login} is already linked to another Slack user, as ${account.login} (GHES keeps an account's id across renames); an account belongs to one person.`,
      );
    const now = this.deps.clock().toISOString();
    let proven: boolean;
    try {
      proven = await store.transaction(async (tx) => {
        // Another person's sign-in as the same login may have been stored since the check above:
        // the unique login index decides, and this transaction (with its delete) is rolled back.
        const stored = await tx.links.put({
          ...tokens,
          slackUserId,
          side,
          login,
          // Four eyes compare this id: a renamed login is a new string, the same account.
          ...(ghesUserId !== undefined ? { ghesUserId } : {}),
          connectionId: github?.connectionId ?? null,
          status: "active",
          linkedAt: now,
        });
        if (!stored) throw new LoginTaken();
        await tx.audit.append({
          actor: { slack: slackUserId, ...actor },
          action: "link.linked",
          target: side,
          outcome: "ok",
          // GHES's user id stays when a site admin renames the login: it ties this entry to the account.
          details: { login, ...(ghesUserId !== undefined ? { ghes_user_id: ghesUserId } : {}) },
        });
        // Re-read inside the transaction: an entry added since the check above proves nothing
        // unless it is for exactly the login signed in; otherwise the sign-in is refused as above.
        const entry = side === "ghes" ? await tx.admins.find(slackUserId) : undefined;
        if (entry && entry.ghesLogin.toLowerCase() !== login.toLowerCase()) throw new WrongLogin(entry.ghesLogin);
        if (entry && entry.addedBy !== "GHCONNECT_ADMINS") {
          await tx.audit.append({
            actor: { slack: slackUserId, ghes: login },
            action: "admins.proven",
            target: `${slackUserId}:${login}`,
            outcome: "ok",
            ...(ghesUserId !== undefined ? { details: { ghes_user_id: ghesUserId } } : {}),
          });
          return true;
        }
        return false;
      });
    } catch (error) {
      // The unique indexes decided (a concurrent sign-in as this login or this GHES account).
      if (error instanceof LoginTaken) return alreadyLinked(loginTaken);
      if (error instanceof WrongLogin) return wrongLogin(error.entryLogin);
      throw error;
    }
    // The person hears it in Slack too: a link they did not make (a forwarded page someone else
    // confirmed) shows up where they can undo it.
    await this.deps.notifier
      .post(
        slackUserId,
        simpleMessage(
          `:link: Your Slack account is now linked to the ${name} login \`${login}\`.${proven ? " Your admin roster entry is now active." : ""}`,
          `If that is not you, run \`/ghconnect unlink ${side}\` now and tell an admin.`,
        ),
      )
      .catch(() => undefined);
    return {
      kind: "linked",
      ...pageText(
        `Linked to ${name}`,
        `You are ${login} on ${name}.${proven ? " Your admin roster entry is now active." : ""} /ghconnect whoami in Slack shows what is linked.`,
      ),
    };
  }

  private async revoke(side: LinkSide, token: string, client?: OAuthClient): Promise<boolean> {
    if (side === "ghes") await this.deps.oauth.ghesRevoke(token);
    else if (client) await this.deps.oauth.githubRevoke(client, token);
    else return false;
    return true;
  }

  /** `unlink [ghes|github]`: revokes the tokens and forgets the link(s). */
  async unlink(slackUserId: string, only?: LinkSide): Promise<Message> {
    const { store } = this.deps;
    const links = (await store.links.all(slackUserId)).filter((l) => !only || l.side === only);
    if (links.length === 0) {
      throw new NotLinked(
        only
          ? `Your ${this.sideName(only)} account is not linked, so there is nothing to unlink.`
          : "You have no linked accounts, so there is nothing to unlink.",
        "`/ghconnect whoami` shows what is linked.",
      );
    }
    const github = await this.githubClient();
    const lines: string[] = [];
    for (const link of links) {
      let revoked: boolean | string;
      try {
        const client = link.connectionId && link.connectionId === github?.connectionId ? github.client : undefined;
        revoked = link.status === "active" ? await this.revoke(link.side, link.token, client) : false;
      } catch (error) {
        revoked = (error as Error).message.slice(0, 160);
      }
      await store.transaction(async (tx) => {
        await tx.links.remove(slackUserId, link.side);
        await tx.audit.append({
          actor: { slack: slackUserId },
          action: "link.unlinked",
          target: link.side,
          outcome: "ok",
          details: {
            login: link.login,
            token_revoked: revoked === true,
            ...(typeof revoked === "string" ? { revoke_error: revoked } : {}),
          },
        });
      });
      lines.push(
        `Unlinked ${this.sideName(link.side)} (\`${link.login}\`)${revoked === true ? "; its token is revoked" : typeof revoked === "string" ? `; ${this.sideName(link.side)} did not confirm the revocation (${revoked})` : ""}.`,
      );
    }
    return simpleMessage(lines.join("\n"), `Search skips an unlinked side.${await this.rosterAfterUnlink(slackUserId, links)}`);
  }

  /** What an unlink did to the person's admin roster entry, as one sentence (empty with no entry). */
  private async rosterAfterUnlink(slackUserId: string, unlinked: readonly { side: LinkSide }[]): Promise<string> {
    const entry = await this.deps.store.admins.find(slackUserId);
    if (!entry) return "";
    if (entry.addedBy === TRUSTED_SOURCE) return " Your admin roster entry comes from GHCONNECT_ADMINS and stays active.";
    if (unlinked.some((l) => l.side === "ghes"))
      return ` Your admin roster entry (GHES \`${entry.ghesLogin}\`) is pending until you link GHES as \`${entry.ghesLogin}\` again.`;
    return isProven(entry)
      ? ` Your admin roster entry stays active: GHES stays linked as \`${entry.ghesLogin}\`.`
      : ` Your admin roster entry stays pending until you link GHES as \`${entry.ghesLogin}\`.`;
  }

  /** `whoami`: what is linked, as whom, since when. */
  async whoami(slackUserId: string): Promise<Message> {
    const { store } = this.deps;
    const links = new Map((await store.links.all(slackUserId)).map((l) => [l.side, l]));
    const entry = await store.admins.find(slackUserId);
    const line = (side: LinkSide) => {
      const l = links.get(side);
      if (!l) return `• ${this.sideName(side)}: not linked — \`/ghconnect link\``;
      if (l.status === "expired")
        return `• ${this.sideName(side)}: \`${l.login}\`, linked ${when(l.linkedAt)} — expired: GitHub refused to refresh it; run \`/ghconnect link\` again`;
      return `• ${this.sideName(side)}: \`${l.login}\`, linked ${when(l.linkedAt)}`;
    };
    const roster = entry
      ? entry.addedBy === "GHCONNECT_ADMINS" || links.get("ghes")?.login.toLowerCase() === entry.ghesLogin.toLowerCase()
        ? `Admin roster: active as GHES \`${entry.ghesLogin}\`.`
        : `Admin roster: pending — the entry is for GHES \`${entry.ghesLogin}\`; link GHES as \`${entry.ghesLogin}\` to activate it.`
      : "Admin roster: not an admin.";
    await store.appendAudit({ actor: { slack: slackUserId }, action: "command.whoami", outcome: "ok" });
    return { text: "What you have linked", blocks: [{ kind: "text", text: [line("ghes"), line("github"), roster].join("\n") }] };
  }

  /**
   * The person's token for search on `side`, refreshed first when it is about to expire. A
   * refresh GitHub refuses marks the link expired and tells the person.
   */
  async tokenFor(slackUserId: string, side: LinkSide): Promise<TokenForSearch> {
    const link = await this.deps.store.links.get(slackUserId, side);
    if (!link) return { ok: false, why: "not linked" };
    if (link.status === "expired") return { ok: false, why: "expired" };
    if (side === "github") {
      const github = await this.githubClient();
      if (!github || link.connectionId !== github.connectionId) return { ok: false, why: "other connection" };
      if (link.expiresAt && Date.parse(link.expiresAt) - this.deps.clock().getTime() <= REFRESH_AHEAD_MS) {
        const refreshed = await this.refresh(link, github.client);
        if (!refreshed) return { ok: false, why: "expired" };
        return { ok: true, token: refreshed, login: link.login };
      }
    }
    return { ok: true, token: link.token, login: link.login };
  }

  /** Refreshes one github.com link; the new token, or undefined when GitHub refused (link marked expired). */
  private async refresh(link: PersonLink, client: OAuthClient): Promise<string | undefined> {
    const { store, notifier } = this.deps;
    if (!link.refreshToken) return this.expire(link, "no refresh token");
    try {
      const tokens = await this.deps.oauth.githubRefresh(client, link.refreshToken);
      if (!(await store.links.updateTokens(link.slackUserId, link.side, link.token, tokens))) {
        // Another replica refreshed it first: use what it stored.
        return (await store.links.get(link.slackUserId, link.side))?.token;
      }
      await store.appendAudit({
        actor: { slack: null },
        action: "link.refreshed",
        target: link.side,
        outcome: "ok",
        details: { person: link.slackUserId, login: link.login, expires_at: tokens.expiresAt ?? null },
      });
      return tokens.token;
    } catch (error) {
      if (!(error instanceof RefreshRefused)) throw error;
      const gone = await this.expire(link, error.reason);
      await notifier
        .post(
          link.slackUserId,
          simpleMessage(
            `:warning: GitHub refused to refresh your ${this.site()} link (\`${link.login}\`, ${error.reason}), so it has expired.`,
            `Run \`/ghconnect link\` to sign in to ${this.site()} again.`,
          ),
        )
        .catch(() => undefined);
      return gone;
    }
  }

  private async expire(link: PersonLink, reason: string): Promise<undefined> {
    await this.deps.store.transaction(async (tx) => {
      await tx.links.markExpired(link.slackUserId, link.side);
      await tx.audit.append({
        actor: { slack: null },
        action: "link.expired",
        target: link.side,
        outcome: "failed",
        details: { person: link.slackUserId, login: link.login, reason },
      });
    });
    return undefined;
  }

  /** Periodic duty (scheduled by the app): refreshes github.com tokens before they expire. */
  async refreshDue(): Promise<number> {
    const github = await this.githubClient();
    if (!github) return 0;
    const due = await this.deps.store.links.expiringBefore(new Date(this.deps.clock().getTime() + REFRESH_AHEAD_MS).toISOString());
    let n = 0;
    const failures: unknown[] = [];
    for (const link of due) {
      if (link.connectionId !== github.connectionId) continue;
      // GitHub failing one refresh (5xx, network) leaves that link as it is for the next round
      // and does not hold up the others.
      try {
        if (await this.refresh(link, github.client)) n++;
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length)
      throw new AggregateError(failures, `${failures.length} ${this.site()} link refresh(es) failed; they are retried next minute`);
    return n;
  }

  /**
   * Before a disconnect deletes the app's credentials: revokes every github.com user token the
   * app issued (DELETE /applications/{client_id}/token) and forgets those links.
   */
  async revokeForConnection(connectionId: string): Promise<{ revoked: number; failed: number }> {
    const github = await this.githubClient();
    const links = await this.deps.store.links.forConnection(connectionId);
    let revoked = 0;
    let failed = 0;
    for (const link of links) {
      if (link.status !== "active" || !github || github.connectionId !== connectionId) continue;
      try {
        await this.deps.oauth.githubRevoke(github.client, link.token);
        revoked++;
      } catch {
        failed++;
      }
    }
    await this.deps.store.links.removeForConnection(connectionId);
    return { revoked, failed };
  }
}

/** The confirmation form's token: the state bound to the browser's cookie. */
function confirmToken(state: string, nonce: string): string {
  return createHash("sha256").update(`link-confirm.${state}.${nonce}`).digest("base64url");
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The stored half of the browser binding: the state and the cookie's nonce, hashed by the states store. */
function bindingKey(state: string, nonce: string): string {
  return createHash("sha256").update(`${state}.${nonce}`).digest("base64url");
}

function notValidPage(reason: string): LinkPageOutcome {
  const message =
    reason === "used"
      ? "This sign-in link was already used; each link works once."
      : reason === "expired"
        ? "This sign-in link has expired; links last 10 minutes."
        : "This sign-in link is not one ghconnect issued.";
  return refused("no_valid_link", "Link not valid", `${message} Nothing was linked. Run /ghconnect link in Slack for new links.`);
}

function refused(refusal: LinkRefusalCode, title: string, message: string): LinkPageOutcome {
  return { kind: "refused", refusal, ...pageText(title, message) };
}
