// An enterprise-owned app is installed on organizations of the enterprise, which its owners
// choose and may change on GitHub at any time ("Installing a GitHub App on organizations in your
// enterprise"; docs.github.com/enterprise-cloud@latest/admin/managing-your-enterprise-account/
// creating-github-apps-for-your-enterprise). The connection keeps the list it last saw, so
// `status` shows it from the database; this periodic check (scheduled by the app) asks GitHub with
// the app's JWT, and records and audits each organization added or removed.
import type { DotcomGateway, FlowStore } from "./ports.js";

export interface InstallationsWatchDeps {
  store: FlowStore;
  dotcom: DotcomGateway;
}

/** The organizations an enterprise app is installed on, as GitHub lists them, lowercased and sorted. */
export async function installedOrganizations(dotcom: DotcomGateway, app: { appId: number; privateKey: string }): Promise<string[]> {
  const installations = await dotcom.installations(app);
  // An installation on the enterprise itself grants only enterprise permissions: not an organization.
  return [...new Set(installations.filter((i) => !i.onEnterprise).map((i) => i.account.toLowerCase()))].filter(Boolean).sort();
}

/** Compares GitHub's list with the connection's; records and audits the change once. Returns the number of changes. */
export async function watchEnterpriseInstallations(deps: InstallationsWatchDeps): Promise<number> {
  const { store, dotcom } = deps;
  const connection = await store.connections.active();
  if (connection?.accountKind !== "enterprise" || connection.appId === null) return 0;
  const key = await store.credentials.get({ connectionId: connection.id }, "private_key");
  if (!key) return 0;
  const now = await installedOrganizations(dotcom, { appId: connection.appId, privateKey: key.secret });
  const before = connection.installedOn;
  const seen = before ?? [];
  const added = now.filter((o) => !seen.includes(o));
  const removed = seen.filter((o) => !now.includes(o));
  if (added.length === 0 && removed.length === 0) return 0;
  return store.transaction(async (tx) => {
    // Conditional on the list read: several replicas noticing the same change record it once.
    if (!(await tx.connections.setInstalledOn(connection.id, before, now))) return 0;
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
    return added.length + removed.length;
  });
}
