// The step both ways of getting an app end with (GitHub created it from the manifest, or an
// enterprise owner registered it and sent its credentials): the app's credentials kept, the
// page's state used, and the operation waiting for the installation, in one transaction; then
// the browser goes on to GitHub's installation page with the install step's own state.
import { randomBytes } from "node:crypto";
import type { Actor } from "../audit.js";
import type { Operation } from "../model.js";
import { type EnableContext, updateCard } from "./context.js";
import type { PageOutcome } from "./outcome.js";
import { refuseNotWaiting } from "./page-refusals.js";

export type InstalledApp = NonNullable<Operation["app"]>;

export interface KeptApp {
  at: "callback" | "credentials";
  op: Operation;
  /** The page's state and its purpose: used in the same transaction. */
  state: string;
  purpose: "manifest" | "register";
  /** Said in the error should the state be found used: a waiting operation's state never is. */
  waitingFor: string;
  app: InstalledApp;
  secrets: { privateKey: string; clientSecret: string; webhookSecret?: string | null };
  /** Only at this version of the operation. */
  version?: number;
  /** The app's page on GitHub, for the card. */
  appUrl: string;
  audit: { actor: Actor; action: string; details: Record<string, unknown> };
}

/** Keeps the app and sends the browser to its installation; refused when the operation moved on meanwhile. */
export async function keepAppAndInstall(ctx: EnableContext, kept: KeptApp): Promise<PageOutcome> {
  const { store, config } = ctx.deps;
  const { op, app } = kept;
  const installState = randomBytes(32).toString("base64url");
  const next = await store.transaction(async (tx) => {
    const moved = await tx.operations.transition(op.id, ["awaiting_github"], { status: "awaiting_install", app }, kept.version);
    if (!moved) return undefined;
    const used = await tx.states.consume(kept.state, kept.purpose);
    // Ending the operation drops its states in the same transaction, so a waiting operation's state is unused.
    if (!used.ok)
      throw new Error(`the ${kept.purpose} state of operation ${op.id} was ${used.reason} while it waited for ${kept.waitingFor}`);
    const owner = { operationId: op.id };
    await tx.credentials.put(owner, "private_key", kept.secrets.privateKey);
    await tx.credentials.put(owner, "client_secret", kept.secrets.clientSecret);
    if (kept.secrets.webhookSecret) await tx.credentials.put(owner, "webhook_secret", kept.secrets.webhookSecret);
    await tx.states.create(installState, op.id, "install", config.githubTtlMs);
    await tx.audit.append({ ...kept.audit, target: op.org, outcome: "ok" });
    return moved;
  });
  if (!next)
    return refuseNotWaiting(ctx, { at: kept.at, operationId: op.id, op: await store.operations.get(op.id), title: "Already handled" });
  await updateCard(ctx, next, { kind: "installing", appSlug: app.slug, appUrl: kept.appUrl });
  return {
    kind: "redirect",
    location: `${config.githubUrl}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${encodeURIComponent(installState)}`,
  };
}
