// The checks that must pass before connecting (and that `check` shows): GHES, the license, each
// GitHub host through the proxy, and the clock against GitHub's. Each result says what to do.
import { createHash } from "node:crypto";
import { canonicalJson } from "./audit.js";
import { connectHosts, GHECOM_MIN_GHES_VERSION, gheComSubdomain, versionAtLeast } from "./github-hosts.js";
import type { ServerFacts } from "./model.js";
import type { DotcomGateway, GhesGateway, LicenseFacts, ManageGateway } from "./ports.js";

export type CheckStatus = "ok" | "warn" | "fail" | "running" | "skipped";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  advice?: string;
}

export interface PreflightDeps {
  ghes: GhesGateway;
  manage: ManageGateway;
  dotcom: DotcomGateway;
  uploadsUrl: string;
  proxy?: string;
  now: () => Date;
}

export interface PreflightOutcome {
  results: CheckResult[];
  passed: boolean;
  facts?: ServerFacts;
}

const DAY = 86_400_000;

export function licenseHash(licenseData: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(licenseData)).digest("hex");
}

/** Runs the checks in order, reporting each as it finishes (for the live card). */
export async function runPreflight(
  deps: PreflightDeps,
  onProgress: (results: CheckResult[]) => Promise<void> = async () => {},
): Promise<PreflightOutcome> {
  const results: CheckResult[] = [];
  const record = async (result: CheckResult) => {
    results.push(result);
    await onProgress([...results]);
  };
  const via = deps.proxy ? ` through the proxy ${new URL(deps.proxy).host}` : "";

  let version: string | undefined;
  try {
    version = await deps.ghes.version();
    const subdomain = gheComSubdomain(deps.dotcom.webUrl);
    if (subdomain && !versionAtLeast(version, GHECOM_MIN_GHES_VERSION)) {
      await record({
        name: "GHES",
        status: "fail",
        detail: `${new URL(deps.ghes.url).host} runs GHES ${version}; GitHub Connect to GHE.com (${subdomain}.ghe.com) needs GHES ${GHECOM_MIN_GHES_VERSION} or later`,
        advice: `Upgrade GHES to ${GHECOM_MIN_GHES_VERSION} or later, then run enable again.`,
      });
    } else {
      await record({ name: "GHES", status: "ok", detail: `${new URL(deps.ghes.url).host} answers, version ${version}` });
    }
  } catch (error) {
    await record({ name: "GHES", status: "fail", detail: (error as Error).message, advice: "Check GHES_URL and that the instance is up." });
  }

  let license: LicenseFacts | undefined;
  try {
    license = await deps.manage.licenseFacts();
    const expires = license.expiresAt ? Date.parse(license.expiresAt) : Number.NaN;
    const daysLeft = Number.isNaN(expires) ? undefined : Math.floor((expires - deps.now().getTime()) / DAY);
    if (daysLeft !== undefined && daysLeft < 0) {
      await record({
        name: "License",
        status: "fail",
        detail: `the license of ${license.customerName} expired on ${license.expiresAt?.slice(0, 10)}`,
        advice: "Upload a renewed license in the Management Console; GitHub Connect needs a valid one.",
      });
    } else if (daysLeft !== undefined && daysLeft < 30) {
      await record({
        name: "License",
        status: "warn",
        detail: `${license.customerName}, expires in ${daysLeft} days (${license.expiresAt?.slice(0, 10)})`,
        advice: "Renew the license soon; the connection stops working when it expires.",
      });
    } else {
      await record({
        name: "License",
        status: "ok",
        detail: `${license.customerName}, valid until ${license.expiresAt?.slice(0, 10) ?? "(perpetual)"}`,
      });
    }
  } catch (error) {
    const e = error as Error & { hint?: string };
    await record({ name: "License", status: "fail", detail: e.message, advice: e.hint });
  }

  // GitHub's documented host list for the target (github.com or GHE.com): see github-hosts.ts.
  const hosts = connectHosts({ webUrl: deps.dotcom.webUrl, apiUrl: deps.dotcom.apiUrl, uploadsUrl: deps.uploadsUrl });
  const subdomain = gheComSubdomain(deps.dotcom.webUrl);
  const reaches = await Promise.all(hosts.map((h) => deps.dotcom.reach(h.url)));
  let githubDate: string | undefined;
  for (const [i, reach] of reaches.entries()) {
    const host = hosts[i] as (typeof hosts)[number];
    const label = host.role === "web" ? (subdomain ? "GHE.com" : "github.com") : host.role;
    if (reach.ok) {
      githubDate ??= reach.date;
      await record({ name: `${label} (${reach.host})`, status: "ok", detail: `reachable${via}` });
    } else {
      const fix =
        reach.kind === "proxy_refused"
          ? `Allow ${reach.host} in the proxy (HTTPS_PROXY=${deps.proxy ? new URL(deps.proxy).host : "?"}).`
          : reach.kind === "proxy_unreachable"
            ? `Check that the proxy can resolve and reach ${reach.host}.`
            : reach.kind === "dns"
              ? `Make ${reach.host} resolvable from this host, or set HTTPS_PROXY.`
              : `Allow outbound HTTPS to ${reach.host}${deps.proxy ? " in the proxy" : " (or set HTTPS_PROXY)"}.`;
      // On GHE.com, an unknown subdomain is the likeliest cause: every host of a mistyped one fails.
      const checkSubdomain =
        subdomain && reach.kind !== "proxy_refused" && reach.host.endsWith(`${subdomain}.ghe.com`)
          ? ` Check that ${subdomain}.ghe.com is your enterprise's subdomain (GITHUB_URL).`
          : "";
      await record({
        name: `${label} (${reach.host})`,
        status: host.required ? "fail" : "warn",
        detail: `${reach.detail}${via}${host.required ? "" : " (GitHub Connect does not need it; people's sign-ins and stored objects do)"}`,
        advice: `${fix}${checkSubdomain}`,
      });
    }
  }

  if (githubDate) {
    const skew = Math.round((deps.now().getTime() - Date.parse(githubDate)) / 1000);
    if (Math.abs(skew) > 30) {
      await record({
        name: "Clock",
        status: "warn",
        detail: `this host's clock is ${Math.abs(skew)} s ${skew > 0 ? "ahead of" : "behind"} GitHub's`,
        advice: "Sync the clock with NTP: GitHub rejects app JWTs when clocks differ by more than 60 s.",
      });
    } else {
      await record({ name: "Clock", status: "ok", detail: `within ${Math.abs(skew)} s of GitHub's` });
    }
  }

  const passed = results.every((r) => r.status !== "fail");
  const facts =
    passed && version && license
      ? {
          ghesHostname: license.hostname || new URL(deps.ghes.url).hostname,
          ghesVersion: version,
          licenseCustomerName: license.customerName,
          licensePublicKey: license.publicKey,
          licenseHash: licenseHash(license.licenseData),
          licenseExpiresAt: license.expiresAt,
        }
      : undefined;
  return { results, passed, facts };
}
