// An enterprise-owned app is installed on organizations of the enterprise, which its owners
// choose and may change on GitHub at any time ("Installing a GitHub App on organizations in your
// enterprise"; docs.github.com/enterprise-cloud@latest/admin/managing-your-enterprise-account/
// creating-github-apps-for-your-enterprise). The connection keeps the list it last saw, so
// `status` shows it from the database; this periodic check (scheduled by the app) asks GitHub with
// the app's JWT, and records and audits each organization added or removed. The connection mints
// its tokens through one of those installations: when that one is removed, the check moves the
// connection to another (re-homes it) rather than let every refresh fail, but only to one it
// trusts. GitHub's installation objects do not say who installed them, and an owner of a single
// organization of the enterprise may install the enterprise's app there; so the connection trusts
// only the installations listed when a proven enterprise owner completed it (the ones that
// owner's install flow left), and never a suspended one, which mints no token. Installations that
// appear later are recorded and audited, not trusted. When no trusted installation remains, the
// loss is recorded, audited and posted once, and `status` says what an enterprise owner does.
import type { DotcomGateway, FlowStore } from "./ports.js";

export interface InstallationsWatchDeps {
  store: FlowStore;
  dotcom: DotcomGateway;
}

type AppInstallation = Awaited<ReturnType<DotcomGateway["installations"]>>[number];

/** The app's installations on organizations (one on the enterprise itself grants only enterprise permissions). */
function onOrganizations(installations: AppInstallation[]): AppInstallation[] {
  return installations.filter((i) => !i.onEnterprise && i.account);
}

function organizationsOf(installations: AppInstallation[]): string[] {
  return [...new Set(installations.map((i) => i.account.toLowerCase()))].sort();
}

/**
 * At completion, once the installer is proven an owner of the enterprise: the organizations the
 * app is installed on (lowercased, sorted) and the installations the connection may move to later
 * (those on organizations now, with the completing one).
 */
export async function installationsAtCompletion(
  dotcom: DotcomGateway,
  app: { appId: number; privateKey: string },
  installationId: number,
): Promise<{ organizations: string[]; trusted: number[] }> {
  const listed = onOrganizations(await dotcom.installations(app));
  return {
    organizations: organizationsOf(listed),
    trusted: [...new Set([installationId, ...listed.map((i) => i.id)])].sort((a, b) => a - b),
  };
}

/**
 * The installation a connection that lost its own moves to: a trusted one, not suspended, on the
 * first organization by name (the same on every replica).
 */
function successorOf(installations: AppInstallation[], trusted: number[]): AppInstallation | undefined {
  return installations
    .filter((i) => trusted.includes(i.id) && !i.suspended)
    .sort((a, b) => a.account.toLowerCase().localeCompare(b.account.toLowerCase()) || a.id - b.id)[0];
}

/**
 * Compares GitHub's list with the connection's; records and audits the change once, and re-homes
 * the connection when its installation is gone and another remains. Returns the number of changes.
 */
export async function watchEnterpriseInstallations(deps: InstallationsWatchDeps): Promise<number> {
  const { store, dotcom } = deps;
  const connection = await store.connections.active();
  if (connection?.accountKind !== "enterprise" || connection.appId === null) return 0;
  const key = await store.credentials.get({ connectionId: connection.id }, "private_key");
  if (!key) return 0;
  const installations = onOrganizations(await dotcom.installations({ appId: connection.appId, privateKey: key.secret }));
  const now = organizationsOf(installations);
  const before = connection.installedOn;
  const seen = before ?? [];
  const added = now.filter((o) => !seen.includes(o));
  const removed = seen.filter((o) => !now.includes(o));
  const from = connection.installationId;
  const lost = from !== null && !installations.some((i) => i.id === from);
  const successor = lost ? successorOf(installations, connection.trustedInstallations ?? []) : undefined;
  const newlyLost = lost && !successor && connection.installationLostAt === null;
  if (added.length === 0 && removed.length === 0 && !successor && !newlyLost) return 0;
  return store.transaction(async (tx) => {
    let changes = 0;
    // Each write is conditional on what was read: several replicas noticing the same change record it once.
    if ((added.length > 0 || removed.length > 0) && (await tx.connections.setInstalledOn(connection.id, before, now))) {
      for (const [action, organization] of [
        ...added.map((o) => ["connection.installation_added", o] as const),
        ...removed.map((o) => ["connection.installation_removed", o] as const),
      ]) {
        await tx.audit.append({
          actor: { slack: null },
          action,
          target: connection.org,
          outcome: "ok",
          details: { connection: connection.id, organization, app_id: connection.appId, installed_on: now },
        });
      }
      changes += added.length + removed.length;
    }
    if (successor && from !== null && (await tx.connections.rehome(connection.id, from, successor.id))) {
      await tx.audit.append({
        actor: { slack: null },
        action: "connection.installation_rehomed",
        target: connection.org,
        outcome: "ok",
        details: {
          connection: connection.id,
          app_id: connection.appId,
          from_installation: from,
          // The organization the lost installation was on, when this look saw it go.
          from_organizations: removed,
          to_installation: successor.id,
          organization: successor.account.toLowerCase(),
          installed_on: now,
        },
      });
      changes += 1;
    }
    if (newlyLost && from !== null && (await tx.connections.noteInstallationLost(connection.id, from))) {
      const untrusted = installations.filter((i) => !(connection.trustedInstallations ?? []).includes(i.id));
      await tx.audit.append({
        actor: { slack: null },
        action: "connection.installation_lost",
        target: connection.org,
        outcome: "failed",
        details: {
          connection: connection.id,
          app_id: connection.appId,
          from_installation: from,
          from_organizations: removed,
          installed_on: now,
          // Installed after the connection was completed: GitHub does not say by whom, so not moved to.
          untrusted_installations: untrusted.map((i) => i.id),
          suspended_installations: installations.filter((i) => i.suspended).map((i) => i.id),
        },
      });
      changes += 1;
    }
    return changes;
  });
}
