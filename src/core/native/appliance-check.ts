// Preflight from the appliance's point of view. GHES's native Connect goes out through GHES's own
// proxy (Management Console → Privacy → HTTP proxy server, `http_proxy` in the Manage API), not
// through the bot's HTTPS_PROXY; when the two differ, the bot's host checks say nothing about what
// GHES can reach. So `check` shows both, warns when they differ, and, where the bot can reach
// GHES's proxy, tests GitHub's required hosts through it.
import type { Reach } from "../ports.js";
import type { CheckResult } from "../preflight.js";
import type { ApplianceSettings } from "./ports.js";

export interface ApplianceCheckDeps {
  appliance: ApplianceSettings;
  /** The bot's own HTTPS_PROXY, if any. */
  botProxy?: string;
  /** GitHub's required hosts, as the bot's preflight lists them (label, URL). */
  hosts: Array<[string, string]>;
  /** Reaches `url` through `proxy` (not the bot's), as GHES would. */
  reachThrough(proxy: string, url: string): Promise<Reach>;
}

const hostOf = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch {
    return url;
  }
};

export async function applianceProxyChecks(deps: ApplianceCheckDeps): Promise<CheckResult[]> {
  if (!deps.appliance.configured) return [];
  let applianceProxy: string | null;
  try {
    applianceProxy = await deps.appliance.httpProxy();
  } catch (error) {
    const e = error as Error & { hint?: string };
    return [{ name: "GHES proxy", status: "warn", detail: `GHES's own proxy setting could not be read: ${e.message}`, advice: e.hint }];
  }
  const bot = deps.botProxy ? hostOf(deps.botProxy) : undefined;
  const ghes = applianceProxy ? hostOf(applianceProxy) : undefined;
  const results: CheckResult[] = [];
  if (bot === ghes) {
    results.push({
      name: "GHES proxy",
      status: "ok",
      detail: ghes ? `GHES and the bot both go through ${ghes}` : "neither GHES nor the bot uses a proxy",
    });
  } else {
    results.push({
      name: "GHES proxy",
      status: "warn",
      detail: `GHES goes out ${ghes ? `through ${ghes}` : "directly (no proxy)"}, the bot ${bot ? `through ${bot}` : "directly (HTTPS_PROXY not set)"}: the host checks above are the bot's view, not GHES's`,
      advice:
        "Native GitHub Connect uses GHES's setting (Management Console → Privacy → HTTP proxy server); align HTTPS_PROXY with it, or check GHES's own path.",
    });
  }
  if (!applianceProxy || ghes === bot) return results;
  const reaches = await Promise.all(deps.hosts.map(([, url]) => deps.reachThrough(applianceProxy, url)));
  // Every host failing the same way, short of a proxy's refusal, is the proxy itself out of reach.
  const unreachable = reaches.every((r) => !r.ok && r.kind !== "proxy_refused" && r.kind === reaches[0]?.kind);
  if (unreachable) {
    results.push({
      name: "Through GHES's proxy",
      status: "warn",
      detail: `the bot cannot reach GHES's proxy ${ghes} from here (${reaches[0]?.detail ?? "no answer"}), so GitHub's hosts were not tested through it`,
      advice: "Test from GHES itself: `ghe-config` / Management Console → Privacy, or curl through the proxy from the appliance.",
    });
    return results;
  }
  for (const [i, reach] of reaches.entries()) {
    const [label] = deps.hosts[i] as [string, string];
    results.push(
      reach.ok
        ? { name: `${label} via GHES's proxy`, status: "ok", detail: `${reach.host} reachable through ${ghes}` }
        : {
            name: `${label} via GHES's proxy`,
            status: "fail",
            detail: `${reach.host} through ${ghes}: ${reach.detail}`,
            advice: `Allow ${reach.host} in GHES's proxy ${ghes}; native GitHub Connect needs it.`,
          },
    );
  }
  return results;
}
