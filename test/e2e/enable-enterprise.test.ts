// Connecting an enterprise account (`enable enterprise:SLUG`), as the admins, the enterprise owner
// and the auditor see it: the bot's registration guide, the app registered by hand under the
// enterprise on GitHub, its credentials given on the bot's single-use form (never Slack),
// verified with the app's JWT, then the same installation, completion, card and audit as an
// organization. Each bad input gets its own message and stores nothing.
import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { pageText } from "../../src/sandbox/browser.js";
import { ENGINES } from "../helpers/db.js";
import { capturedLog, startWorld, textOf, type World } from "../helpers/world.js";

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

/** Someone installs the enterprise's app on an organization through GitHub's page (the browser is not followed back to the bot). */
async function installOnGitHub(world: World, input: { slug: string; as: string; target: string }): Promise<Response> {
  const response = await fetch(`${world.sandbox.urls.web}/apps/${input.slug}/installations`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": input.as },
    body: new URLSearchParams({ target: input.target }),
  });
  expect(response.status).toBe(302);
  return response;
}

/** enable enterprise:acme-corp → the guide → octocat, an owner of acme-corp, registers the app from it. */
async function registerFromGuide(world: World): Promise<{ guide: Guide; creds: Registered }> {
  const guide = await openGuide(await enableEnterpriseUntilGuide(world));
  const creds = await registerOnGitHub(world, { enterprise: "acme-corp", as: "octocat", guide });
  return { guide, creds };
}

/** The form takes the credentials (both stored), and the installer's return completes the connection. */
async function acceptedUntilConnected(world: World, guide: Guide, creds: Registered): Promise<void> {
  const accepted = await submitCredentials(guide, creds);
  expect(accepted.status).toBe(302);
  expect(await world.credentialCount()).toBe(2);
  const done = await world.browse("alice", accepted.location as string);
  expect(done.text).toContain("Connected acme-corp");
}

/**
 * The whole enterprise enable, as octocat (owner of acme-corp and of its organization acme).
 * `alsoOn`: organizations octocat installs the app on in the same visit to GitHub, before the
 * installation on acme brings the browser back to the bot and completes the connection.
 */
async function connectEnterprise(world: World, options: { alsoOn?: string[] } = {}): Promise<Registered> {
  const { guide, creds } = await registerFromGuide(world);
  const accepted = await submitCredentials(guide, creds);
  const app = world.sandbox.world.apps.at(-1)!;
  for (const target of options.alsoOn ?? []) await installOnGitHub(world, { slug: app.slug, as: "octocat", target });
  const done = await world.browse("alice", accepted.location as string);
  expect(done.text).toContain("Connected acme-corp");
  return creds;
}

describe.each(ENGINES)("enable an enterprise account (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("an enterprise owner registers the app from the guide, gives its credentials on the bot's form, installs it on an organization, and the server is connected", async () => {
    world = await startWorld(engine);
    const link = await enableEnterpriseUntilGuide(world);
    const guide = await openGuide(link);
    expect(guide.status).toBe(200);
    expect(guide.text).toContain(`${world.sandbox.urls.web}/enterprises/acme-corp/settings/apps/new`);
    expect(guide.fields.get("Callback URL")).toBe(`${world.bot.url}/ghconnect/github/setup`);
    expect(guide.fields.get("Second callback URL")).toBe(`${world.bot.url}/ghconnect/link/github/callback`);
    expect(guide.fields.get("Request user authorization (OAuth) during installation")).toBe("checked");
    expect(guide.fields.get("Organization permissions → Members")).toBe("Read-only");
    expect(guide.fields.get("GitHub App name")).toBe((await world.bot.bot.store.operations.inFlight())?.appName);

    const creds = await registerOnGitHub(world, { enterprise: "acme-corp", as: "octocat", guide });
    const accepted = await submitCredentials(guide, creds);
    expect(accepted.status).toBe(302);
    const app = world.sandbox.world.apps.at(-1)!;
    expect(accepted.location).toContain(`/apps/${app.slug}/installations/new?state=`);
    await world.card(/registered under the enterprise acme-corp/);

    const done = await world.browse("alice", accepted.location as string);
    expect(done.status).toBe(200);
    expect(done.text).toContain("Connected acme-corp");
    expect(done.text).toContain("connected to the GitHub enterprise account acme-corp");

    const card = await world.card(/Connected acme-corp/);
    expect(textOf(card)).toContain("Enterprise");
    expect(textOf(card)).toContain("Installed on");
    expect(textOf(card)).toContain("acme");
    const connection = await world.bot.bot.store.connections.active();
    expect(connection).toMatchObject({
      accountKind: "enterprise",
      org: "acme-corp",
      appId: Number(creds.appId),
      appSettingsUrl: `${world.sandbox.urls.web}/enterprises/acme-corp/settings/apps/${app.slug}`,
      connectedBy: { github: "octocat" },
    });
    const entries = await world.auditSince();
    expect(entries.find((e) => e.action === "enable.app_registered")).toMatchObject({
      outcome: "ok",
      target: "acme-corp",
      details: { account_kind: "enterprise", app_owner: "acme-corp", app_id: Number(creds.appId) },
    });
    expect(entries.find((e) => e.action === "enable.connected")?.details.account).toBe("acme-corp");
    const audit = JSON.stringify(entries);
    expect(audit).not.toContain(creds.clientSecret);
    expect(audit).not.toContain("PRIVATE KEY");

    const statusSince = world.mark();
    await world.command("alice", "status");
    const status = await world.privateMessage("alice", /Connected to acme-corp/, statusSince);
    expect(textOf(status)).toContain("acme-corp (enterprise account)");
  });

  it("a private key that is not the app's, an app owned by another account, and a malformed form are each refused with their reason; nothing is stored and the form still works", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    const other = await registerOnGitHub(world, {
      enterprise: "globex",
      as: "hubot",
      guide: { ...guide, fields: new Map([...guide.fields, ["GitHub App name", "Globex app"]]) },
    });

    const wrongKey = await submitCredentials(guide, { ...creds, privateKey: other.privateKey });
    expect(wrongKey.status).toBe(422);
    expect(wrongKey.text).toContain(`GitHub refused a token signed with this private key for app id ${creds.appId}`);
    expect(wrongKey.text).toContain("Nothing was stored.");
    expect(wrongKey.text).not.toContain("PRIVATE KEY");

    const otherOwner = await submitCredentials(guide, other);
    expect(otherOwner.status).toBe(422);
    expect(otherOwner.text).toContain(`is owned by the enterprise globex, not by the enterprise acme-corp.`);

    const lacking = await registerOnGitHub(world, {
      enterprise: "acme-corp",
      as: "octocat",
      guide: { ...guide, fields: new Map([...guide.fields, ["GitHub App name", "Lacking app"]]) },
      permissions: { issues: "read", pull_requests: "read" },
    });
    const noMembers = await submitCredentials(guide, lacking);
    expect(noMembers.status).toBe(422);
    expect(noMembers.text).toContain("lacks Organization → Members: Read-only. Set it in the app's settings, then send the form again.");

    const malformed = await submitCredentials(guide, { ...creds, privateKey: "not a key" });
    expect(malformed.status).toBe(422);
    expect(malformed.text).toContain("The private key is missing or is not a PEM file");
    expect(malformed.text).not.toContain(creds.clientSecret);

    expect(await world.credentialCount()).toBe(0);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    const refusals = (await world.auditSince()).filter((e) => e.action === "enable.credentials_refused");
    expect(refusals.map((e) => e.details.refusal)).toEqual(["key_refused", "wrong_app", "wrong_app", "malformed_credentials"]);

    // The same form, corrected, is accepted; sent again, it is refused as used.
    const accepted = await submitCredentials(guide, creds);
    expect(accepted.status).toBe(302);
    expect(await world.credentialCount()).toBe(2);
    const reused = await submitCredentials(guide, creds);
    expect(reused.status).toBe(400);
    expect(reused.text).toContain("This link was already used; each works once.");
    expect(await world.credentialCount()).toBe(2);
  });

  it("a wrong client secret is caught on the form, not when the installer returns: the page says the secret is refused, nothing is stored, it is audited, and the corrected form is accepted", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    const wrongSecret = "0".repeat(40);
    const refused = await submitCredentials(guide, { ...creds, clientSecret: wrongSecret });
    expect(refused.status).toBe(422);
    const app = world.sandbox.world.apps.at(-1)!;
    expect(refused.text).toContain(
      `GitHub refused the client secret for the Client ID of the app ${app.slug} (id ${creds.appId}): it is not one of the app's current client secrets.`,
    );
    expect(refused.text).toContain("Nothing was stored.");
    expect(refused.text).not.toContain(wrongSecret);
    expect(refused.text).not.toContain(creds.clientSecret);
    expect(await world.credentialCount()).toBe(0);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    const refusals = (await world.auditSince()).filter((e) => e.action === "enable.credentials_refused");
    expect(refusals.map((e) => [e.outcome, e.details.refusal])).toEqual([["refused", "secret_refused"]]);
    expect(JSON.stringify(refusals)).not.toContain(wrongSecret);

    // The same form, with the right secret, is accepted and the installation completes.
    await acceptedUntilConnected(world, guide, creds);
  });

  it("GitHub's check of the client secret answers 422 (documented for 'the endpoint has been spammed') or 5xx: that proves nothing, so nothing is stored, the page says to send again (502), it is audited as refused, and the same form is accepted later", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    const wrongSecret = "0".repeat(40);
    // The form's check of the secret (POST /applications/{client_id}/token) answers 422: even a wrong secret is not taken.
    world.sandbox.world.inject({ host: "api", status: 422, method: "POST", pathIncludes: "/applications/", times: 10 });
    const spammed = await submitCredentials(guide, { ...creds, clientSecret: wrongSecret });
    world.sandbox.world.clearFaults();
    expect(spammed.status).toBe(502);
    expect(spammed.text).toContain(
      "GitHub could not check the client secret right now (HTTP 422); nothing was stored; send the form again in a minute.",
    );
    expect(spammed.text).not.toContain(wrongSecret);
    expect(await world.credentialCount()).toBe(0);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");

    // A 5xx is no verdict either, even on the right secret.
    world.sandbox.world.inject({ host: "api", status: 503, method: "POST", pathIncludes: "/applications/", times: 10 });
    const down = await submitCredentials(guide, creds);
    world.sandbox.world.clearFaults();
    expect(down.status).toBe(502);
    expect(down.text).toContain("GitHub could not check the client secret right now (HTTP 503); nothing was stored");
    expect(down.text).not.toContain(creds.clientSecret);
    expect(await world.credentialCount()).toBe(0);
    const refusals = (await world.auditSince()).filter((e) => e.action === "enable.credentials_refused");
    expect(refusals.map((e) => [e.outcome, e.details.refusal])).toEqual([
      ["refused", "secret_unverified"],
      ["refused", "secret_unverified"],
    ]);
    expect(JSON.stringify(refusals)).not.toContain(wrongSecret);
    expect(JSON.stringify(refusals)).not.toContain(creds.clientSecret);

    // GitHub answers again: the wrong secret is refused, and the same single-use form takes the right one.
    expect((await submitCredentials(guide, { ...creds, clientSecret: wrongSecret })).status).toBe(422);
    await acceptedUntilConnected(world, guide, creds);
  });

  it("an expired credentials form is refused and stores nothing", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    world.sandbox.world.advance(61 * 60_000);
    const late = await submitCredentials(guide, creds);
    expect(late.status).toBe(400);
    expect(late.text).toContain("Link expired");
    expect(await world.credentialCount()).toBe(0);
  });

  it("an owner of an organization in the enterprise who is not an owner of the enterprise cannot complete the connection", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    const accepted = await submitCredentials(guide, creds);
    // bob's github.com account owns octo-inc, an organization of acme-corp, but not the enterprise.
    const page = await world.browse("bob", accepted.location as string);
    expect(page.status).toBe(422);
    expect(page.text).toContain(
      "The github.com user hubot is not an owner of the enterprise acme-corp (owning one of its organizations is not enough)",
    );
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await world.credentialCount()).toBe(0);
    const failed = (await world.auditSince()).find((e) => e.action === "enable.installed");
    expect(failed?.outcome).toBe("failed");
  });

  it("a slug that is not an enterprise: the guide says up front how to find the slug and when it is checked; no app can be registered under it, and an app of another account is refused", async () => {
    world = await startWorld(engine);
    const link = await enableEnterpriseUntilGuide(world, "no-such-enterprise");
    const guide = await openGuide(link);
    const web = world.sandbox.urls.web;
    expect(guide.text).toContain(
      `First, check the slug. This enable is for the enterprise with the slug “no-such-enterprise”. The slug is the last part of the enterprise's address, ${web}/enterprises/no-such-enterprise`,
    );
    expect(guide.text).toContain(
      "ghconnect checks the slug when you send the app's credentials below: GitHub must show the app as owned by the enterprise no-such-enterprise, or the form is refused and nothing is stored.",
    );
    expect(guide.text).toContain("press Cancel on the card in Slack and run /ghconnect enable enterprise:SLUG with the right one.");
    // Up front: before GitHub's form and the credentials form.
    expect(guide.text.indexOf("First, check the slug.")).toBeLessThan(guide.text.indexOf("/settings/apps/new"));
    expect(guide.text).toContain("/enterprises/no-such-enterprise/settings/apps/new");
    const response = await fetch(`${world.sandbox.urls.web}/enterprises/no-such-enterprise/settings/apps/new`, {
      headers: { "x-sandbox-user": "octocat" },
    });
    expect(response.status).toBe(404);
    const other = await registerOnGitHub(world, { enterprise: "acme-corp", as: "octocat", guide });
    const refused = await submitCredentials(guide, other);
    expect(refused.status).toBe(422);
    expect(refused.text).toContain("is owned by the enterprise acme-corp, not by the enterprise no-such-enterprise.");
    expect(await world.credentialCount()).toBe(0);
  });

  it("the addendum and status while waiting say the enterprise's app is registered by an owner by hand and installed on its organizations", async () => {
    world = await startWorld(engine);
    const since = world.mark();
    await world.command("alice", "enable enterprise:acme-corp");
    const posted = await world.card(/Accept addendum and continue/, since);
    const card = textOf(posted);
    expect(card).toContain(
      "a GitHub App that an owner of the enterprise acme-corp registers by hand is installed on the enterprise's organizations.",
    );
    expect(card).not.toContain("is created and installed");
    const clicked = world.mark();
    await world.click("alice", posted, "enable.accept");
    await world.privateMessage("alice", /Register the app/, clicked);
    const statusSince = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /An enable of acme-corp/, statusSince));
    expect(status).toContain(
      "is waiting for an enterprise owner to register the app by hand on GitHub and hand its credentials to ghconnect; expires",
    );
    expect(status).not.toContain("to be created and installed");
  });

  it("disable enterprise:SLUG uninstalls the app, deletes its credentials and links the enterprise page where an owner deletes the registration; a plain name does not match the enterprise", async () => {
    world = await startWorld(engine);
    // The owner installs it on the enterprise's other organization too while connecting.
    await connectEnterprise(world, { alsoOn: ["octo-inc"] });
    const app = world.sandbox.world.apps.at(-1)!;
    expect(world.sandbox.world.installations.filter((i) => i.appId === app.id && !i.deleted)).toHaveLength(2);

    let since = world.mark();
    await world.command("alice", "disable acme-corp");
    const wrong = await world.privateMessage("alice", /is connected to/, since);
    expect(textOf(wrong)).toContain("This server is connected to enterprise:acme-corp, not acme-corp.");
    expect(textOf(wrong)).toContain("/ghconnect disable enterprise:acme-corp");

    since = world.mark();
    await world.command("alice", "disable enterprise:acme-corp");
    const card = structuredClone(await world.card(/Disconnect acme-corp\?[\s\S]*Approving will/, since));
    // The installation is on the enterprise's organizations, named; an enterprise app has no webhook secret.
    expect(textOf(card)).toMatch(/• uninstall the app \S+ from the organizations acme, octo-inc of the enterprise acme-corp;/);
    expect(textOf(card)).toContain(
      "• delete the private key, client secret and tokens from this server — and so from every replica and every future backup;",
    );
    expect(textOf(card)).not.toContain("webhook secret");
    await world.click("alice", card, "disable.approve");
    const done = await world.card(/Disconnected acme-corp/);
    expect(textOf(done)).toContain("Installation token revoked; app uninstalled; every credential deleted from this server.");
    expect(JSON.stringify(done.blocks)).toContain(`${world.sandbox.urls.web}/enterprises/acme-corp/settings/apps/${app.slug}`);
    expect(world.sandbox.world.installations.filter((i) => i.appId === app.id).every((i) => i.deleted)).toBe(true);
    expect(await world.credentialCount()).toBe(0);
    expect(await world.bot.bot.store.connections.latest()).toMatchObject({ status: "disconnected", accountKind: "enterprise" });
  });

  it("GitHub failing on an enterprise's uninstall: “delete local credentials anyway” asks to uninstall the app from the enterprise's organizations, by name", async () => {
    world = await startWorld(engine);
    await connectEnterprise(world, { alsoOn: ["octo-inc"] });
    const since = world.mark();
    await world.command("alice", "disable enterprise:acme-corp");
    const card = structuredClone(await world.card(/Disconnect acme-corp\?[\s\S]*Approving will/, since));
    world.sandbox.world.inject({ host: "api", status: 500, pathIncludes: "/app/installations/", times: 3 });
    await world.click("alice", card, "disable.approve");
    const failed = await world.card(/GitHub failed while disconnecting/);
    const force = JSON.stringify(failed.blocks);
    expect(force).toContain(
      "GitHub was not told: uninstall the app from the organizations acme, octo-inc of the enterprise acme-corp on GitHub yourself.",
    );
    expect(await world.bot.bot.store.connections.active()).toBeDefined();
  });

  it("the owners choose the organizations: status lists them, and one added or removed on GitHub later is noticed, posted and audited", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    await connectEnterprise(world);
    const app = world.sandbox.world.apps.at(-1)!;
    let since = world.mark();
    await world.command("alice", "status");
    expect(textOf(await world.privateMessage("alice", /Connected to acme-corp/, since))).toContain("Installed on\nacme\n");

    // octocat, owner of the enterprise, installs the app on its other organization on GitHub.
    const install = await fetch(`${world.sandbox.urls.web}/apps/${app.slug}/installations`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": "octocat" },
      body: new URLSearchParams({ target: "octo-inc" }),
    });
    expect(install.status).toBe(302);
    await world.card(/was installed on the organization octo-inc/);
    since = world.mark();
    await world.command("alice", "status");
    expect(textOf(await world.privateMessage("alice", /Connected to acme-corp/, since))).toContain("Installed on\nacme, octo-inc\n");

    const octo = world.sandbox.world.installations.find((i) => i.appId === app.id && i.account.login === "octo-inc")!;
    octo.deleted = true;
    await world.card(/was uninstalled from the organization octo-inc/);
    const entries = (await world.auditSince()).filter((e) => e.action.startsWith("connection.installation_"));
    expect(entries.map((e) => [e.action, e.target, e.details.organization])).toEqual([
      ["connection.installation_added", "acme-corp", "octo-inc"],
      ["connection.installation_removed", "acme-corp", "octo-inc"],
    ]);
    since = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(status).toContain("Installed on\nacme\n");
    expect(status).not.toContain("octo-inc");
  });

  it("the installation the connection uses is removed while another organization the owner installed it on when connecting keeps the app: the connection moves to that one, recorded, audited and posted, and tokens come from it", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    // octocat, an owner of the enterprise, installs the app on octo-inc too while connecting.
    await connectEnterprise(world, { alsoOn: ["octo-inc"] });
    const app = world.sandbox.world.apps.at(-1)!;
    const { tokens } = world.bot.bot;
    const first = (await world.bot.bot.store.connections.active())!;
    const acme = world.sandbox.world.installations.find((i) => i.id === first.installationId)!;
    expect(acme.account.login).toBe("acme");
    expect(first.installedOn).toEqual(["acme", "octo-inc"]);
    await tokens.current();
    const octo = world.sandbox.world.installations.find((i) => i.appId === app.id && i.account.login === "octo-inc")!;

    // An owner uninstalls the app from acme on GitHub (its tokens die with it).
    acme.deleted = true;
    for (const t of world.sandbox.world.tokens) if (t.installationId === acme.id) t.revoked = true;
    const line = await world.card(/Installation on acme removed; now using octo-inc/);
    expect(textOf(line)).toContain(`now using octo-inc (installation ${octo.id}) for the enterprise acme-corp.`);
    const connection = (await world.bot.bot.store.connections.active())!;
    expect(connection.installationId).toBe(octo.id);
    expect(connection.installedOn).toEqual(["octo-inc"]);
    const rehomed = (await world.auditSince()).filter((e) => e.action === "connection.installation_rehomed");
    expect(rehomed.map((e) => [e.outcome, e.target, e.details.from_installation, e.details.to_installation])).toEqual([
      ["ok", "acme-corp", acme.id, octo.id],
    ]);

    // The next refresh mints a token for the installation on octo-inc, and status shows it.
    expect(await tokens.refreshIfDue()).toBe("refreshed");
    const minted = world.sandbox.world.tokens.at(-1)!;
    expect(minted.installationId).toBe(octo.id);
    expect((await tokens.current()).token).toBe(minted.token);
    const since = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(status).toContain("Installed on\nocto-inc\n");
    expect(status).not.toContain("Installation token\n⚠️");
  });

  it("the app is uninstalled from every organization of the enterprise: the channel and status say no token can be had and what an owner does; an installation made later on GitHub is noticed but not used", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    await connectEnterprise(world);
    const app = world.sandbox.world.apps.at(-1)!;
    const first = (await world.bot.bot.store.connections.active())!;
    const acme = world.sandbox.world.installations.find((i) => i.id === first.installationId)!;
    acme.deleted = true;
    const removed = await world.card(/was uninstalled from the organization acme/);
    expect(textOf(removed)).toContain("No organization of the enterprise has it now");
    const lost = textOf(await world.card(/no installation ghconnect may move to remains/));
    expect(lost).toContain(`The installation ghconnect used for the enterprise acme-corp (on acme, installation ${acme.id}) was removed`);
    expect(lost).toContain(
      "To reconnect, an admin runs `/ghconnect disable enterprise:acme-corp`, then `/ghconnect enable enterprise:acme-corp`, and an owner of the enterprise installs the app through the link ghconnect gives.",
    );
    let since = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(status).toContain("⚠️ no organization: the app was uninstalled from every organization of the enterprise");
    expect(status).toContain("/ghconnect disable enterprise:acme-corp`, then `/ghconnect enable enterprise:acme-corp`");
    expect((await world.bot.bot.store.connections.active())?.installationId).toBe(acme.id);

    // Someone installs it on acme again on GitHub: noticed and audited, but GitHub does not say who did, so not used.
    await installOnGitHub(world, { slug: app.slug, as: "octocat", target: "acme" });
    const fresh = world.sandbox.world.installations.find((i) => i.appId === app.id && !i.deleted)!;
    await world.card(/was installed on the organization acme/);
    expect((await world.bot.bot.store.connections.active())?.installationId).toBe(acme.id);
    const entries = await world.auditSince();
    expect(entries.filter((e) => e.action === "connection.installation_rehomed")).toEqual([]);
    expect(entries.filter((e) => e.action === "connection.installation_lost").map((e) => [e.outcome, e.details.from_installation])).toEqual(
      [["failed", acme.id]],
    );
    since = world.mark();
    await world.command("alice", "status");
    const after = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(after).toContain(`Installed on\nacme — ⚠️ the installation ghconnect used (${acme.id}) was removed`);
    expect(after).toContain("/ghconnect disable enterprise:acme-corp`, then `/ghconnect enable enterprise:acme-corp`");
    expect(world.sandbox.world.tokens.filter((t) => t.installationId === fresh.id)).toEqual([]);
  });

  it("the connection's installation is removed while the only other one the owner installed when connecting is suspended: the connection does not move to it (it cannot mint tokens) until it is unsuspended", async () => {
    world = await startWorld(engine, { sweepEveryMs: 50 });
    await connectEnterprise(world, { alsoOn: ["octo-inc"] });
    const app = world.sandbox.world.apps.at(-1)!;
    const first = (await world.bot.bot.store.connections.active())!;
    const acme = world.sandbox.world.installations.find((i) => i.id === first.installationId)!;
    const octo = world.sandbox.world.installations.find((i) => i.appId === app.id && !i.deleted && i.account.login === "octo-inc")!;
    // An owner of octo-inc suspends the app there (GET /app/installations still lists it, with suspended_at).
    octo.suspended = true;
    acme.deleted = true;
    await world.card(/was uninstalled from the organization acme/);
    await world.card(/no installation ghconnect may move to remains/);
    expect((await world.bot.bot.store.connections.active())?.installationId).toBe(acme.id);
    const lost = (await world.auditSince()).filter((e) => e.action === "connection.installation_lost");
    expect(lost.map((e) => e.details.suspended_installations)).toEqual([[octo.id]]);

    // Unsuspended, it is again one the connection may move to.
    octo.suspended = false;
    await world.card(/Installation on .*now using octo-inc|now using octo-inc/);
    expect((await world.bot.bot.store.connections.active())?.installationId).toBe(octo.id);
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
    const install = await installOnGitHub(world, { slug: app.slug, as: "hubot", target: "octo-inc" });
    const hubots = world.sandbox.world.installations.find((i) => i.appId === app.id && !i.deleted && i.account.login === "octo-inc")!;
    expect(hubots).toBeDefined();
    const back = await world.browse("bob", install.headers.get("location") as string);
    expect(back.status).toBeGreaterThanOrEqual(400);

    // The sweep sees the new organization (recorded and posted in the same look as any re-home).
    await world.card(/installed on the organization octo-inc|now using octo-inc/);
    const connection = (await world.bot.bot.store.connections.active())!;
    expect(connection.installationId).not.toBe(hubots.id);
    const entries = await world.auditSince();
    expect(entries.filter((e) => e.action === "connection.installation_rehomed").map((e) => e.details.to_installation)).not.toContain(
      hubots.id,
    );
    // And the bot mints no installation token through hubot's installation.
    await world.bot.bot.tokens.refreshIfDue().catch(() => undefined);
    expect(world.sandbox.world.tokens.filter((t) => t.installationId === hubots.id)).toEqual([]);
    // Status says the connection has no installation it uses, and what an owner of the enterprise does.
    const since = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(status).toContain(`Installed on\nocto-inc — ⚠️ the installation ghconnect used (${acme.id}) was removed`);
    expect(status).toContain("an owner of the enterprise installs the app through the link ghconnect gives");
  });

  it("an enterprise on GHE.com: enable enterprise:SLUG registers the app under SUBDOMAIN.ghe.com, verifies it through api.SUBDOMAIN.ghe.com, then status and disconnect, end to end", async () => {
    world = await startWorld(engine, { sandbox: { gheCom: { subdomain: "acme" } } });
    expect(world.bot.config.GITHUB_API_URL).toBe("http://api.acme.ghe.com");
    const { guide, creds } = await registerFromGuide(world);
    expect(guide.text).toContain("http://acme.ghe.com/enterprises/acme-corp/settings/apps/new");
    const accepted = await submitCredentials(guide, creds);
    expect(accepted.status).toBe(302);
    const app = world.sandbox.world.apps.at(-1)!;
    expect(accepted.location).toContain(`http://acme.ghe.com/apps/${app.slug}/installations/new?state=`);
    const done = await world.browse("alice", accepted.location as string);
    expect(done.text).toContain("connected to the GitHub enterprise account acme-corp");
    const card = textOf(await world.card(/Connected acme-corp/));
    expect(card).toMatch(/Connected by\n<@U0ALICE001> · GHES `alice` · acme\.ghe\.com `octocat`/);
    // The credentials were checked, the installer verified and the token minted on GHE.com's API host.
    expect(world.sandbox.proxy?.seen).toEqual(expect.arrayContaining(["acme.ghe.com:80", "api.acme.ghe.com:80"]));
    expect(await world.bot.bot.store.connections.active()).toMatchObject({
      accountKind: "enterprise",
      org: "acme-corp",
      appSettingsUrl: `http://acme.ghe.com/enterprises/acme-corp/settings/apps/${app.slug}`,
    });

    let since = world.mark();
    await world.command("alice", "status");
    const status = textOf(await world.privateMessage("alice", /Connected to acme-corp/, since));
    expect(status).toContain("acme-corp (enterprise account)");
    expect(status).toContain("Installed on\nacme\n");
    expect(status).toContain("acme.ghe.com `octocat`");

    since = world.mark();
    await world.command("alice", "disable enterprise:acme-corp");
    const confirm = structuredClone(await world.card(/Disconnect acme-corp\?[\s\S]*Approving will/, since));
    await world.click("alice", confirm, "disable.approve");
    const disconnected = await world.card(/Disconnected acme-corp/, since);
    expect(JSON.stringify(disconnected.blocks)).toContain(`http://acme.ghe.com/enterprises/acme-corp/settings/apps/${app.slug}`);
    expect(world.sandbox.world.installations.filter((i) => i.appId === app.id).every((i) => i.deleted)).toBe(true);
    expect(await world.credentialCount()).toBe(0);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
  });

  it("the credentials form: a body over 16 kB is refused with 413, and no log line ever holds the key or the secret", async () => {
    const { log, lines: logs } = capturedLog("debug");
    world = await startWorld(engine, { log });
    const { guide, creds } = await registerFromGuide(world);

    const huge = await submitCredentials(guide, { ...creds, privateKey: `${creds.privateKey}\n${"A".repeat(17 * 1024)}` });
    expect(huge.status).toBe(413);
    expect(huge.text).toContain("The form is larger than 16 kB");
    expect(await world.credentialCount()).toBe(0);
    const other = await registerOnGitHub(world, {
      enterprise: "acme-corp",
      as: "octocat",
      guide: { ...guide, fields: new Map([...guide.fields, ["GitHub App name", "Second app"]]) },
    });
    expect((await submitCredentials(guide, { ...creds, privateKey: other.privateKey })).status).toBe(422);
    const accepted = await submitCredentials(guide, creds);
    expect(accepted.status).toBe(302);
    await world.browse("alice", accepted.location as string);
    await world.card(/Connected acme-corp/);

    const logged = logs.join("");
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain("PRIVATE KEY");
    expect(logged).not.toContain(creds.clientSecret);
    expect(logged).not.toContain(other.clientSecret);
  });

  it("an installation on the enterprise itself (enterprise permissions only) does not complete the connection, and says to install on an organization", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    const accepted = await submitCredentials(guide, creds);
    const page = await world.browse("alice", `${accepted.location}&target=enterprise:acme-corp`);
    expect(page.status).toBe(422);
    expect(page.text).toContain("is on the enterprise acme-corp itself, where an app gets only enterprise permissions");
    expect(page.text).toContain(
      "Run /ghconnect enable enterprise:acme-corp again and install the app on one of the enterprise's organizations",
    );
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await world.credentialCount()).toBe(0);
  });

  it("unified search of an enterprise connection searches its organizations (GitHub has no enterprise qualifier)", async () => {
    world = await startWorld(engine);
    await connectEnterprise(world);
    let since = world.mark();
    await world.command("alice", "feature enable unified-search");
    await world.privateMessage("alice", /Turned on Unified search/, since);
    // Search runs as the person: alice links her github.com account through the enterprise's app.
    await world.link("alice", "github");
    since = world.mark();
    await world.command("alice", "search flaky");
    const text = textOf(await world.privateMessage("alice", /Search:/, since));
    expect(text).toContain("acme/api#101");
    expect(text).not.toContain("showing GHES only");
  });

  it("an EC private key (not RSA, as GitHub App keys are) is refused on the credentials form as malformed, audited, nothing stored", async () => {
    world = await startWorld(engine);
    const { guide, creds } = await registerFromGuide(world);
    // An outsider holding the form's link (or an owner pasting the wrong file): an EC key in PKCS#8 PEM.
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const answer = await submitCredentials(guide, { ...creds, privateKey: ec });
    expect(answer.status).toBe(422);
    expect(answer.text).toContain("The private key is not an RSA key");
    expect(answer.text).toContain("Nothing was stored.");
    expect(await world.credentialCount()).toBe(0);
    expect((await world.bot.bot.store.operations.inFlight())?.status).toBe("awaiting_github");
    const refusals = (await world.bot.bot.store.audit.latest(50)).filter((e) => e.action === "enable.credentials_refused");
    expect(refusals.map((e) => e.details.refusal)).toEqual(["malformed_credentials"]);
  });
});
