// An outsider's review of the enterprise's credentials form and of installation re-homing (README "Connecting an enterprise
// account", step 5): the installer of the connection's installation had to be proven an owner of
// the enterprise ("owning one of its organizations is not enough"). Re-homing must not hand the
// connection to an installation that someone who only owns an organization made.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/core/audit.js";
import { pageText } from "../../src/sandbox/browser.js";
import { ENGINES } from "../helpers/db.js";
import { startWorld, textOf, type World } from "../helpers/world.js";

async function auditEntries(world: World): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const e of world.bot.bot.store.audit.all()) entries.push(e);
  return entries;
}

const decode = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));

interface Guide {
  status: number;
  text: string;
  state: string;
  formAction: string;
  fields: Map<string, string>;
}

/** The bot's registration guide, read the way the owner reads it. */
async function openGuide(link: string): Promise<Guide> {
  const response = await fetch(link);
  const html = await response.text();
  const fields = new Map<string, string>();
  for (const m of html.matchAll(/<tr><th>([^<]*)<\/th><td><code id="field-\d+">([^<]*)<\/code>/g))
    fields.set(decode(m[1] as string), decode(m[2] as string));
  return {
    status: response.status,
    text: pageText(html),
    state: decode(/name="state" value="([^"]*)"/.exec(html)?.[1] ?? ""),
    formAction: decode(/id="credentials-form" method="post" action="([^"]*)"/.exec(html)?.[1] ?? ""),
    fields,
  };
}

interface Registered {
  appId: string;
  clientId: string;
  clientSecret: string;
  privateKey: string;
}

/** An owner registers the app on GitHub's enterprise form, copying the guide's values. */
async function registerOnGitHub(
  world: World,
  input: { enterprise: string; as: string; guide: Guide; permissions?: Record<string, string> },
): Promise<Registered> {
  const f = input.guide.fields;
  const permissions = input.permissions ?? { metadata: "read", issues: "read", pull_requests: "read", members: "read" };
  const body = new URLSearchParams({
    name: f.get("GitHub App name") ?? "",
    url: f.get("Homepage URL") ?? "",
    callback_url: f.get("Callback URL") ?? "",
    callback_url_2: f.get("Second callback URL") ?? "",
    request_oauth_on_install: "on",
    ...Object.fromEntries(Object.entries(permissions).map(([k, v]) => [`permission_${k}`, v])),
  });
  // Through the sandbox's own fetch: on GHE.com the form is at SUBDOMAIN.ghe.com, behind the proxy.
  const response = await world.sandbox.fetch(`${world.sandbox.urls.web}/enterprises/${input.enterprise}/settings/apps/new`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": input.as },
    body,
  });
  const html = await response.text();
  expect(response.status).toBe(201);
  return {
    appId: /data-app-id="(\d+)"/.exec(html)?.[1] ?? "",
    clientId: /data-client-id="([^"]+)"/.exec(html)?.[1] ?? "",
    clientSecret: /data-client-secret="([^"]+)"/.exec(html)?.[1] ?? "",
    privateKey: decode(/<pre data-private-key>([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? ""),
  };
}

async function submitCredentials(
  guide: Guide,
  creds: Partial<Registered>,
): Promise<{ status: number; location: string | null; text: string }> {
  const response = await fetch(guide.formAction, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      state: guide.state,
      app_id: creds.appId ?? "",
      client_id: creds.clientId ?? "",
      client_secret: creds.clientSecret ?? "",
      private_key: creds.privateKey ?? "",
    }),
  });
  return { status: response.status, location: response.headers.get("location"), text: pageText(await response.text()) };
}

/** enable enterprise:SLUG → accept → the private "Register the app" link. */
async function enableEnterpriseUntilGuide(world: World, slug = "acme-corp"): Promise<string> {
  const since = world.mark();
  await world.command("alice", `enable enterprise:${slug}`);
  const card = await world.card(/Accept addendum and continue/, since);
  expect(textOf(card)).toContain(`Enable GitHub Connect → the enterprise ${slug}`);
  const clicked = world.mark();
  await world.click("alice", card, "enable.accept");
  const reply = await world.privateMessage("alice", /Register the app/, clicked);
  expect(textOf(reply)).toContain("GitHub does not create apps for an enterprise account from a manifest");
  return world.linkIn(reply, /Register the app/);
}

/** The whole enterprise enable, as octocat (owner of acme-corp and of its organization acme). */
async function connectEnterprise(world: World): Promise<Registered> {
  const guide = await openGuide(await enableEnterpriseUntilGuide(world));
  const creds = await registerOnGitHub(world, { enterprise: "acme-corp", as: "octocat", guide });
  const accepted = await submitCredentials(guide, creds);
  const done = await world.browse("alice", accepted.location as string);
  expect(done.text).toContain("Connected acme-corp");
  return creds;
}

describe.each(ENGINES)("attack: enterprise account (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("the connection's installation is removed while the only other one is suspended: the connection does not move to the suspended installation, which cannot mint tokens", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    await connectEnterprise(world);
    const app = world.sandbox.world.apps.at(-1)!;
    const first = (await world.bot.bot.store.connections.active())!;
    const acme = world.sandbox.world.installations.find((i) => i.id === first.installationId)!;
    const install = await fetch(`${world.sandbox.urls.web}/apps/${app.slug}/installations`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
      body: new URLSearchParams({ target: "octo-inc" }),
    });
    expect(install.status).toBe(302);
    await world.card(/was installed on the organization octo-inc/);
    const octo = world.sandbox.world.installations.find((i) => i.appId === app.id && !i.deleted && i.account.login === "octo-inc")!;
    // An owner of octo-inc suspends the app there (GET /app/installations still lists it, with suspended_at).
    octo.suspended = true;
    acme.deleted = true;
    await world.card(/uninstalled from the organization acme|Installation on acme removed/);
    expect((await world.bot.bot.store.connections.active())?.installationId).not.toBe(octo.id);
  });

  it("the app is gone from every organization; hubot, owner of octo-inc but not of the enterprise, installs it on octo-inc: the connection does not move to his installation", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    await connectEnterprise(world);
    const app = world.sandbox.world.apps.at(-1)!;
    const first = (await world.bot.bot.store.connections.active())!;
    const acme = world.sandbox.world.installations.find((i) => i.id === first.installationId)!;
    acme.deleted = true;
    await world.card(/was uninstalled from the organization acme/);

    // hubot owns the organization octo-inc of the enterprise, not the enterprise (seedWorld). GitHub
    // lets him install the enterprise's app on his organization; he does, through GitHub's page,
    // which sends his browser back to the bot's setup URL with his authorization code.
    const install = await fetch(`${world.sandbox.urls.web}/apps/${app.slug}/installations`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "hubot" },
      body: new URLSearchParams({ target: "octo-inc" }),
    });
    expect(install.status).toBe(302);
    const hubots = world.sandbox.world.installations.find((i) => i.appId === app.id && !i.deleted && i.account.login === "octo-inc")!;
    expect(hubots).toBeDefined();
    const back = await world.browse("bob", install.headers.get("location") as string);
    expect(back.status).toBeGreaterThanOrEqual(400);

    // The sweep sees the new organization (recorded and posted in the same look as any re-home).
    await world.card(/installed on the organization octo-inc|now using octo-inc/);
    const connection = (await world.bot.bot.store.connections.active())!;
    expect(connection.installationId).not.toBe(hubots.id);
    const entries = await auditEntries(world);
    expect(entries.filter((e) => e.action === "connection.installation_rehomed").map((e) => e.details.to_installation)).not.toContain(
      hubots.id,
    );
    // And the bot mints no installation token through hubot's installation.
    await world.bot.bot.tokens.refreshIfDue().catch(() => undefined);
    expect(world.sandbox.world.tokens.filter((t) => t.installationId === hubots.id)).toEqual([]);
  });
});
