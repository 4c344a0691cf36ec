// The checks that must pass before connecting (and that `check` shows): GHES, the license, each
// GitHub host through the proxy, and the clock against GitHub's. Each result says what to do.
import { createHash } from "node:crypto";
import { canonicalJson } from "./audit.js";
import { connectHosts, GHECOM_MIN_GHES_VERSION, gheComSubdomain, versionAtLeast } from "./github-hosts.js";
import type { ServerFacts } from "./model.js";
import type { DotcomGateway, GhesGateway, LicenseFacts, ManageGateway, Reach } from "./ports.js";
import { proxyFor } from "./proxy-route.js";

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
  /** Hosts that go direct although HTTPS_PROXY is set. */
  noProxy?: string;
  now: () => Date;
  /** Each check's time limit (CHECK_TIMEOUT_MS unless told). */
  checkTimeoutMs?: number;
}

export interface PreflightOutcome {
  results: CheckResult[];
  passed: boolean;
  facts?: ServerFacts;
}

const DAY = 86_400_000;

function licenseResult(license: LicenseFacts, now: Date): CheckResult {
  const expires = license.expiresAt ? Date.parse(license.expiresAt) : Number.NaN;
  const daysLeft = Number.isNaN(expires) ? undefined : Math.floor((expires - now.getTime()) / DAY);
  if (daysLeft !== undefined && daysLeft < 0)
    return {
      name: "License",
      status: "fail",
      detail: `the license of ${license.customerName} expired on ${license.expiresAt?.slice(0, 10)}`,
      advice: "Upload a renewed license in the Management Console; GitHub Connect needs a valid one.",
    };
  if (daysLeft !== undefined && daysLeft < 30)
    return {
      name: "License",
      status: "warn",
      detail: `${license.customerName}, expires in ${daysLeft} days (${license.expiresAt?.slice(0, 10)})`,
      advice: "Renew the license soon; the connection stops working when it expires.",
    };
  return {
    name: "License",
    status: "ok",
    detail: `${license.customerName}, valid until ${license.expiresAt?.slice(0, 10) ?? "(perpetual)"}`,
  };
}

export function licenseHash(licenseData: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(licenseData)).digest("hex");
}

/** How long one check may take: a host that accepts and never answers is reported, not waited on. */
export const CHECK_TIMEOUT_MS = 5000;

/** A check that got no answer within its time limit. */
export class CheckTimedOut extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms / 1000} s (timeout)`);
    this.name = "CheckTimedOut";
  }
}

/**
 * Runs `work` with a signal aborted after `ms`, and gives up at that moment even if `work` does
 * not listen to the signal (a retrying client, a hung socket): a check never waits longer.
 */
export async function withinDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError"));
      reject(new CheckTimedOut(ms));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface NetworkAdviceInput {
  /** dns, tls, timeout, refused, proxy_refused (see the transport's classification). */
  kind: string;
  host: string;
  proxy?: string;
  /** The variable that names this host, when there is one (GHES_URL, SLACK_API_URL…). */
  setting?: string;
}

/** The fix for a host that cannot be reached, by what went wrong. */
export function networkAdvice(input: NetworkAdviceInput): string {
  const advice = adviceFor(input);
  return `${advice.charAt(0).toUpperCase()}${advice.slice(1)}.`;
}

function adviceFor({ kind, host, proxy, setting }: NetworkAdviceInput): string {
  const proxyHost = proxy ? new URL(proxy).host : undefined;
  const check = setting ? `check ${setting}` : "check the host name";
  switch (kind) {
    case "dns":
      return proxyHost
        ? `${check}: with HTTPS_PROXY=${proxyHost}, either the proxy's own name does not resolve or NO_PROXY sends ${host} direct`
        : `${check}, or set HTTPS_PROXY if this host reaches the internet only through a proxy`;
    case "tls":
      return `${host}'s certificate is not trusted here: if a proxy inspects TLS, give Node its CA (NODE_EXTRA_CA_CERTS=/path/to/ca.pem); otherwise check the certificate's name and expiry`;
    case "timeout":
      return proxyHost
        ? `the proxy ${proxyHost} or ${host} did not answer: check that the proxy forwards to ${host}`
        : `${host} did not answer: a firewall may drop the traffic; allow outbound HTTPS to ${host}, or set HTTPS_PROXY`;
    case "proxy_refused":
      return `allow ${host} in the proxy (HTTPS_PROXY=${proxyHost ?? "?"})`;
    case "wrong_protocol":
      return `${host} does not speak HTTPS (a plain-HTTP service answered): check the URL's scheme and port${setting ? ` in ${setting}` : ""}`;
    case "refused":
      // Through a proxy, our connection goes to the proxy: a target that refuses gets a 502 from it.
      if (proxyHost) return `the proxy ${proxyHost} refused the connection: check HTTPS_PROXY (host and port) and that the proxy is up`;
      return `nothing accepts connections at ${host}: ${setting ? `check ${setting} (host and port)` : "check the URL and port"} and that the service is up`;
    case "proxy_unreachable":
      return `check that the proxy ${proxyHost ?? ""} can resolve and reach ${host}`.replace("proxy  ", "proxy ");
    default:
      return `nothing accepts connections at ${host}: ${setting ? `check ${setting} (host and port)` : "check the URL and port"} and that the service is up`;
  }
}

/** What a failed call says, and the fix: per host for a network failure, else the check's own advice or the error's hint. */
export function failureOf(error: unknown, fallback: { host: string; proxy?: string; setting?: string; advice?: string }) {
  const e = error as Error & { hint?: string; network?: { kind: string; host: string } };
  if (error instanceof CheckTimedOut)
    return { detail: `${fallback.host}: ${e.message}`, advice: networkAdvice({ kind: "timeout", ...fallback }) };
  if (e.network) {
    const detail = e.network.kind === "refused" && fallback.proxy ? proxyRefusedDetail(fallback.proxy, e.message) : e.message;
    return { detail, advice: networkAdvice({ ...fallback, ...e.network }) };
  }
  return { detail: e.message, advice: fallback.advice ?? e.hint };
}

/** A refused connection through a proxy: the proxy is what refused (the detail still names the code). */
export function proxyRefusedDetail(proxy: string, detail: string): string {
  const code = /\((E[A-Z_]+|UND_ERR_[A-Z_]+)\)/.exec(detail)?.[1];
  return `the proxy ${new URL(proxy).host} refused the connection${code ? ` (${code})` : ""}`;
}

/** Told every result so far, in the checks' own order (for the live card), and the one just in. */
export type PreflightProgress = (results: CheckResult[], latest: CheckResult) => Promise<void> | void;

/**
 * Runs the checks concurrently, each within its time limit, reporting each as it finishes;
 * the results come back in the checks' own order.
 */
export async function runPreflight(deps: PreflightDeps, onProgress: PreflightProgress = async () => {}): Promise<PreflightOutcome> {
  const ms = deps.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  const proxyOf = (url: string) => proxyFor(url, deps.proxy, deps.noProxy);
  const ghesHost = new URL(deps.ghes.url).host;
  // GitHub's documented host list for the target (github.com or GHE.com): see github-hosts.ts.
  const hosts = connectHosts({ webUrl: deps.dotcom.webUrl, apiUrl: deps.dotcom.apiUrl, uploadsUrl: deps.uploadsUrl });
  const subdomain = gheComSubdomain(deps.dotcom.webUrl);
  // Slots in display order: GHES, License, each host, then the clock (which needs a host's Date).
  const slots: Array<CheckResult | undefined> = [];
  let reported = Promise.resolve();
  let progressFailed: { error: unknown } | undefined;
  const record = (slot: number, result: CheckResult) => {
    slots[slot] = result;
    const snapshot = slots.filter((r): r is CheckResult => r !== undefined);
    // Progress is reported one at a time, in the order results arrive; a failure to report
    // (the card could not be saved) ends the preflight once every check has finished.
    reported = reported
      .then(() => onProgress(snapshot, result))
      .catch((error: unknown) => {
        progressFailed ??= { error };
      });
    return reported;
  };

  const ghesCheck = withinDeadline(ms, (signal) => deps.ghes.version(signal)).then(
    async (version) => {
      if (subdomain && !versionAtLeast(version, GHECOM_MIN_GHES_VERSION)) {
        await record(0, {
          name: "GHES",
          status: "fail",
          detail: `${ghesHost} runs GHES ${version}; GitHub Connect to GHE.com (${subdomain}.ghe.com) needs GHES ${GHECOM_MIN_GHES_VERSION} or later`,
          advice: `Upgrade GHES to ${GHECOM_MIN_GHES_VERSION} or later, then run enable again.`,
        });
        return undefined;
      }
      await record(0, { name: "GHES", status: "ok", detail: `${ghesHost} answers, version ${version}` });
      return version;
    },
    async (error) => {
      const { detail, advice } = failureOf(error, {
        host: ghesHost,
        proxy: proxyOf(deps.ghes.url),
        setting: "GHES_URL",
        advice: "Check GHES_URL and GHES_TOKEN, and that the instance is up.",
      });
      await record(0, { name: "GHES", status: "fail", detail, advice });
      return undefined;
    },
  );

  const licenseCheck = withinDeadline(ms, (signal) => deps.manage.licenseFacts(signal)).then(
    async (license) => {
      await record(1, licenseResult(license, deps.now()));
      return license;
    },
    async (error) => {
      const manageHost = deps.manage.host ?? "the Management Console";
      const proxy = deps.manage.host ? proxyOf(`https://${deps.manage.host}`) : undefined;
      const { detail, advice } = failureOf(error, { host: manageHost, proxy, setting: "GHES_MANAGE_URL" });
      await record(1, { name: "License", status: "fail", detail, advice });
      return undefined;
    },
  );

  const reachChecks = hosts.map(async (target, i) => {
    const host = new URL(target.url).host;
    const label = target.role === "web" ? (subdomain ? "GHE.com" : "github.com") : target.role;
    const proxy = proxyOf(target.url);
    const via = proxy ? ` through the proxy ${new URL(proxy).host}` : "";
    const reach = await withinDeadline(ms, (signal) => deps.dotcom.reach(target.url, signal)).catch(
      (error): Reach => ({ host, ok: false, kind: "timeout", detail: (error as Error).message }),
    );
    if (reach.ok) {
      await record(2 + i, { name: `${label} (${reach.host})`, status: "ok", detail: `reachable${via}` });
    } else {
      // On GHE.com, an unknown subdomain is the likeliest cause: every host of a mistyped one fails.
      const checkSubdomain =
        subdomain && reach.kind !== "proxy_refused" && reach.host.endsWith(`${subdomain}.ghe.com`)
          ? ` Check that ${subdomain}.ghe.com is your enterprise's subdomain (GITHUB_URL).`
          : "";
      await record(2 + i, {
        name: `${label} (${reach.host})`,
        status: target.required ? "fail" : "warn",
        detail: `${reach.kind === "refused" && proxy ? proxyRefusedDetail(proxy, reach.detail) : `${reach.detail}${via}`}${target.required ? "" : " (GitHub Connect does not need it; people's sign-ins do)"}`,
        advice: `${networkAdvice({ kind: reach.kind, host: reach.host, proxy })}${checkSubdomain}`,
      });
    }
    return reach;
  });

  const [version, license, ...reaches] = await Promise.all([ghesCheck, licenseCheck, ...reachChecks]);
  const githubDate = reaches.find((r) => r.ok && r.date)?.date;
  if (githubDate) {
    const skew = Math.round((deps.now().getTime() - Date.parse(githubDate)) / 1000);
    if (Math.abs(skew) > 30) {
      await record(2 + hosts.length, {
        name: "Clock",
        status: "warn",
        detail: `this host's clock is ${Math.abs(skew)} s ${skew > 0 ? "ahead of" : "behind"} GitHub's`,
        advice: "Sync the clock with NTP: GitHub rejects app JWTs when clocks differ by more than 60 s.",
      });
    } else {
      await record(2 + hosts.length, { name: "Clock", status: "ok", detail: `within ${Math.abs(skew)} s of GitHub's` });
    }
  }
  await reported;
  if (progressFailed) throw progressFailed.error;
  const results = slots.filter((r): r is CheckResult => r !== undefined);

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
