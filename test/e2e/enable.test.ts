// `/ghconnect enable acme`, end to end against the sandbox, as the admins and the auditor see it.
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/core/audit.js";
import { SANDBOX_USERS } from "../../src/sandbox/index.js";
import { eventually } from "../helpers/bot.js";
import { ENGINES } from "../helpers/db.js";
import { capturedLog, startWorld, textOf, type World } from "../helpers/world.js";

async function allRowsText(world: World): Promise<string> {
  const tables = ["connections", "credentials", "operations", "oauth_states", "audit_log", "admins", "slack_events"];
  let out = "";
  for (const t of tables) out += JSON.stringify((await sql`select * from ${sql.table(t)}`.execute(world.testDb.db.kysely)).rows);
  return out;
}

async function auditActions(world: World): Promise<string[]> {
  const entries: string[] = [];
  for await (const e of world.bot.bot.store.audit.all()) entries.push(`${e.action}:${e.outcome}`);
  return entries;
}

/** The github.com user tokens GitHub issued to `login` for the app, as the GitHub stand-in holds them. */
function installerTokens(world: World, login: string, appId: number): Array<{ revoked: boolean }> {
  return [...world.sandbox.world.userTokens.values()]
    .filter((t) => t.login === login && t.appId === appId)
    .map((t) => ({ revoked: !!t.revoked }));
}

describe.each(ENGINES)("enable (%s)", (engine) => {
  let world: World;
  afterEach(async () => {
    await world?.close();
  });

  it("connects acme: the record has every field, secrets are encrypted, the channel and the audit tell the story", async () => {
    world = await startWorld(engine);
    const page = await world.enable();
    expect(page.status).toBe(200);
    expect(page.text).toContain("Connected acme");

    const connection = await world.bot.bot.store.connections.active();
    const app = world.sandbox.world.apps.at(-1)!;
    const installation = world.sandbox.world.installations.at(-1)!;
    expect(connection).toMatchObject({
      org: "acme",
      accountKind: "organization",
      status: "active",
      appId: app.id,
      appSlug: app.slug,
      appClientId: app.clientId,
      installationId: installation.id,
      connectedBy: { slack: SANDBOX_USERS.alice.slack, ghes: "alice", github: "octocat" },
      facts: {
        ghesHostname: "ghes.example.com",
        ghesVersion: "3.19.2",
        licenseCustomerName: "Example Corp",
        licensePublicKey: expect.stringContaining("BEGIN PGP PUBLIC KEY BLOCK"),
        licenseHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        licenseExpiresAt: "2027-06-30T23:59:59Z",
      },
    });
    expect(Date.parse(connection!.tokenExpiresAt!) - world.sandbox.world.now()).toBeGreaterThan(55 * 60_000);
    // The app's name fits GitHub's 34 characters and carries a per-attempt suffix.
    expect(app.name.length).toBeLessThanOrEqual(34);
    expect(app.name).toMatch(/^GHES Connect .+ [0-9a-f]{4}$/);
    expect(app.manifest).toMatchObject({
      public: false,
      request_oauth_on_install: true,
      default_permissions: { metadata: "read", members: "read", issues: "read", pull_requests: "read" },
    });

    // Secrets: stored, but never in plain text.
    const stored = await allRowsText(world);
    const token = world.sandbox.world.tokens.at(-1)!.token;
    const pemBody = app.pem.split("\n")[1] as string;
    const secrets = [pemBody, app.clientSecret, app.webhookSecret as string, token];
    for (const secret of secrets) expect(stored).not.toContain(secret);
    const kinds = (
      await sql`select kind from credentials where connection_id = ${connection!.id}`.execute(world.testDb.db.kysely)
    ).rows.map((r) => (r as { kind: string }).kind);
    expect(kinds.sort()).toEqual(["client_secret", "installation_token", "private_key", "webhook_secret"]);
    if (engine === "sqlite") {
      const file = readFileSync(world.testDb.url.slice("sqlite:".length)).toString("latin1");
      for (const secret of secrets) expect(file).not.toContain(secret);
    }

    const card = await world.card(/Connected acme/);
    expect(textOf(card)).toContain(app.slug);
    expect(textOf(card)).toContain("github.com `octocat`");
    expect(card.updates).toBeGreaterThan(3); // one card, updated at every step
    await world.privateMessage("alice", /Connected acme/);

    const actions = await auditActions(world);
    expect(actions).toEqual(
      expect.arrayContaining([
        "enable.requested:pending",
        "enable.preflight:ok",
        "enable.addendum_accepted:ok",
        "enable.app_created:ok",
        "enable.connected:ok",
      ]),
    );
    const entries = [];
    for await (const e of world.bot.bot.store.audit.all()) entries.push(e);
    expect(verifyChain(entries)).toMatchObject({ ok: true });
    expect(JSON.stringify(entries)).not.toContain(app.clientSecret);
  });

  it("refuses a Slack user who is not in the roster", async () => {
    world = await startWorld(engine);
    await world.command("mallory", "enable acme");
    const reply = await world.privateMessage("mallory", /not in ghconnect's admin roster/);
    expect(textOf(reply)).toContain("/ghconnect admins add");
    expect(await world.bot.bot.store.operations.inFlight()).toBeUndefined();
    expect(await auditActions(world)).toContain("command.enable:refused");
  });

  it("refuses a roster member who is no longer a GHES site admin (checked live)", async () => {
    world = await startWorld(engine);
    await world.command("carol", "enable acme");
    const reply = await world.privateMessage("carol", /`carol` is not a site administrator now/);
    expect(textOf(reply)).toContain("checked live");
  });

  it("refuses a setup callback carrying a code of a github.com user who is only a member of acme", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    // The owner creates and installs the app, but the browser stops before reaching the bot…
    const owner = await (await world.bot.browser("alice")).browseUntil(link, /\/ghconnect\/github\/setup/);
    const setup = new URL(owner.finalUrl);
    const app = world.sandbox.world.apps.at(-1)!;
    // …and a member authorizes the app for herself and forges the setup step with her own code.
    const member = await (await world.bot.browser("carol")).browseUntil(
      `${world.sandbox.urls.web}/login/oauth/authorize?client_id=${app.clientId}`,
      /\/ghconnect\/github\/setup/,
    );
    const forged = new URL(setup);
    forged.searchParams.set("code", new URL(member.finalUrl).searchParams.get("code") as string);
    const page = await world.browse("carol", forged.toString());
    expect(page.status).toBe(422);
    expect(page.text).toContain("The github.com user monalisa is not an owner of acme (their role is active member)");
    expect(page.text).toContain(`/organizations/acme/settings/apps/${app.slug}`);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    expect(await auditActions(world)).toContain("enable.installed:failed");
    // The member's token proved who she is, then was revoked: it opens nothing at GitHub any more.
    expect(installerTokens(world, "monalisa", app.id)).toEqual([{ revoked: true }]);
  });

  it("revokes the installer's user token once it has proven who they are: nothing of theirs stays usable at GitHub", async () => {
    world = await startWorld(engine);
    const page = await world.enable();
    expect(page.text).toContain("Connected acme");
    const app = world.sandbox.world.apps.at(-1)!;
    expect(installerTokens(world, "octocat", app.id)).toEqual([{ revoked: true }]);
  });

  it("GitHub failing the installer token's revocation (5xx) does not fail the enable: connected, the failure logged without the token", async () => {
    const { log, lines } = capturedLog("info");
    world = await startWorld(engine, { log });
    world.sandbox.world.inject({ host: "api", status: 502, method: "DELETE", pathIncludes: "/applications/", times: 3 });
    const page = await world.enable();
    expect(page.status).toBe(200);
    expect(page.text).toContain("Connected acme");
    const app = world.sandbox.world.apps.at(-1)!;
    // GitHub never revoked it: the token lapses on its own, and the operator's log says so.
    expect(installerTokens(world, "octocat", app.id)).toEqual([{ revoked: false }]);
    const logged = await eventually(() => {
      const text = lines.join("");
      return text.includes("could not revoke the installer's user token") ? text : undefined;
    });
    for (const token of world.sandbox.world.userTokens.keys()) expect(logged).not.toContain(token);
  });

  it("a GitHub that holds the installer token's revocation open does not hold the enable: the Connected page comes while it hangs, and the revocation still lands", async () => {
    world = await startWorld(engine);
    const held = world.sandbox.world.hold({ host: "api", method: "DELETE", pathIncludes: "/applications/" });
    const page = world.enable();
    await held.arrived;
    // The hold is released only once the page has come: a completion that waits for the revocation never answers.
    const answered = await page;
    expect(answered.status).toBe(200);
    expect(answered.text).toContain("Connected acme");
    const app = world.sandbox.world.apps.at(-1)!;
    expect(installerTokens(world, "octocat", app.id)).toEqual([{ revoked: false }]);
    held.release();
    await eventually(() => installerTokens(world, "octocat", app.id)[0]?.revoked);
  });

  it("refuses a forged installation_id (checked with the app's own JWT)", async () => {
    world = await startWorld(engine);
    const link = await world.enableUntilGitHub();
    const owner = await (await world.bot.browser("alice")).browseUntil(link, /\/ghconnect\/github\/setup/);
    const forged = new URL(owner.finalUrl);
    forged.searchParams.set("installation_id", "999999");
    const page = await world.browse("alice", forged.toString());
    expect(page.status).toBe(422);
    expect(page.text).toMatch(/Installation 999999 does not exist for the app/);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
  });

  it("refuses an app created under another organization and says where to delete it", async () => {
    world = await startWorld(engine);
    world.sandbox.world.nextAppOwnerOverride = "octo-inc";
    const page = await world.enable();
    expect(page.status).toBe(422);
    const app = world.sandbox.world.apps.at(-1)!;
    expect(page.text).toContain("The app was created under octo-inc, not acme; nothing was stored.");
    expect(page.text).toContain(`/organizations/octo-inc/settings/apps/${app.slug}`);
    expect(await world.bot.bot.store.connections.active()).toBeUndefined();
    const n = Number(((await sql`select count(*) as n from credentials`.execute(world.testDb.db.kysely)).rows[0] as { n: number }).n);
    expect(n).toBe(0);
    const card = await world.card(/Enable failed/);
    expect(textOf(card)).toContain("created under octo-inc");
    // The operation is over, so the admin can retry at once.
    await world.command("alice", "enable acme");
    await world.card(/Accept addendum and continue/);
  });
});
