// Enable (SPEC §3): from `/ghconnect enable ORG` to a connection record. Every step is a
// conditional state transition on the operation, audited in the same transaction, so a double
// click, a replayed callback or a second replica can never do a step twice, and a failure
// anywhere leaves no half-stored connection.
//
// Where each part lives: request.ts (the slash command, "Accept addendum", "Cancel"),
// github-pages.ts (manifest, callback, the installer's return), enterprise-pages.ts (register by
// hand, credentials), keep-app.ts (the app's credentials kept), complete.ts (the completion's
// steps), expiry.ts (the sweep), end.ts (ending an operation), page-refusals.ts (refused page
// requests), outcome.ts (what a page comes to; web/github-routes.ts makes it HTTP), wording.ts
// (sentences several steps say). EnableFlow is the one object the app wires.

import type { Message } from "../message.js";
import { RefusalLog } from "../refusals.js";
import type { EnableContext, EnableDeps } from "./context.js";
import { registerPage, submitCredentials } from "./enterprise-pages.js";
import { expireStale } from "./expiry.js";
import { callback, manifestPage, type SetupParams, setup } from "./github-pages.js";
import type { PageOutcome } from "./outcome.js";
import { type GitHubPage, recordRefusal } from "./page-refusals.js";
import { acceptAddendum, cancel, start } from "./request.js";

export { COMPLETING_LEASE_MS, type EnableConfig, type EnableDeps } from "./context.js";
export { APP_PERMISSIONS, type SetupParams } from "./github-pages.js";
export type { EnablePageUrls, PageOutcome, PageRefusalCode, PageText } from "./outcome.js";
export type { GitHubPage } from "./page-refusals.js";
export { appNameFor } from "./request.js";
export { statusExplanation } from "./wording.js";

export class EnableFlow {
  private readonly ctx: EnableContext;

  constructor(deps: EnableDeps) {
    this.ctx = { deps, refusals: new RefusalLog({ store: deps.store, log: deps.log }), now: () => deps.clock() };
  }

  /** `/ghconnect enable ORG`: authorize, refuse if busy, preflight, then the addendum card. */
  request(org: string, slackUserId: string, responseUrl?: string): Promise<Message> {
    return start(this.ctx, { account: org, accountKind: "organization", slackUserId, responseUrl });
  }

  /** `/ghconnect enable enterprise:SLUG`: the same steps; after the addendum, a registration by hand. */
  requestEnterprise(slug: string, slackUserId: string, responseUrl?: string): Promise<Message> {
    return start(this.ctx, { account: slug, accountKind: "enterprise", slackUserId, responseUrl });
  }

  /** "Accept addendum and continue": only the requester, live-authorized, exactly once. */
  acceptAddendum(operationId: string, slackUserId: string): Promise<Message> {
    return acceptAddendum(this.ctx, operationId, slackUserId);
  }

  /** "Cancel": any admin, or the requester; exactly once. */
  cancel(operationId: string, slackUserId: string): Promise<Message> {
    return cancel(this.ctx, operationId, slackUserId);
  }

  /** GET the manifest page: the auto-submitting form that creates the app on GitHub. */
  manifestPage(state: string | undefined): Promise<PageOutcome> {
    return manifestPage(this.ctx, state);
  }

  /** GET GitHub's callback with the app's creation code. */
  callback(code: string | undefined, state: string | undefined): Promise<PageOutcome> {
    return callback(this.ctx, code, state);
  }

  /** GET the installer's return from GitHub: the completion. */
  setup(params: SetupParams): Promise<PageOutcome> {
    return setup(this.ctx, params);
  }

  /** GET the enterprise registration guide and its credentials form. */
  registerPage(state: string | undefined): Promise<PageOutcome> {
    return registerPage(this.ctx, state);
  }

  /** POST the enterprise app's credentials. */
  submitCredentials(fields: Record<string, string | undefined>): Promise<PageOutcome> {
    return submitCredentials(this.ctx, fields);
  }

  /**
   * A request whose parameters the web adapter could not accept (repeated, oversized, outside the
   * URL-token alphabet): counted like a forged state, in the same coalesced audit tally; the web
   * adapter answers it. The reason names the parameter only; its value is not recorded.
   */
  refuseMalformed(at: GitHubPage, reason: string): Promise<void> {
    return recordRefusal(this.ctx, { at, refusal: "malformed", reason });
  }

  /** Ends operations whose time ran out, and completions whose lease ran out (the app's periodic sweep). */
  expireStale(): Promise<number> {
    return expireStale(this.ctx);
  }

  /** Audits the refusals only counted so far, once their kind has had no entry for a minute (the app's sweep). */
  flushRefusals(): Promise<number> {
    return this.ctx.refusals.flush();
  }
}
