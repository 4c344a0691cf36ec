// Where GitHub Enterprise Cloud lives for this connection: github.com, or an enterprise's own
// subdomain of GHE.com (data residency). The host names and the rules differ between the two, and
// they are GitHub's, so this file keeps them in one place for the configuration, `check`/enable's
// preflight and `features`.
//
// Sources (docs.github.com):
// - "Enabling GitHub Connect for GitHub.com" (admin/configuring-settings/configuring-github-connect):
//   the proxy must allow github.com, api.github.com and uploads.github.com.
// - "Enabling GitHub Connect for GHE.com" (same folder): GHES 3.12 or later; the proxy must allow
//   SUBDOMAIN.ghe.com, api.SUBDOMAIN.ghe.com and uploads.SUBDOMAIN.ghe.com.
// - "Network details for GHE.com" (docs.github.com/enterprise-cloud@latest/admin/data-residency/
//   network-details-for-ghecom; github/docs content/admin/data-residency/network-details-for-ghecom.md),
//   "GitHub's hostnames": *.SUBDOMAIN.ghe.com, *.pages.SUBDOMAIN.ghe.com,
//   *.actions.SUBDOMAIN.ghe.com, *.githubassets.com, *.githubusercontent.com,
//   *.blob.core.windows.net and auth.ghe.com. Only auth.ghe.com is a name one can reach; the
//   wildcards name no particular host (the ones under SUBDOMAIN.ghe.com that GitHub Connect uses
//   are Connect's three above), so they are not probed. The list names no objects host.
// - "About GitHub Connect", reusable what-is-available-ghecom: on GHE.com, Server Statistics and
//   GitHub.com actions are not available.

/** The enterprise's GHE.com subdomain when `webUrl` is `https://SUBDOMAIN.ghe.com`, else undefined. */
export function gheComSubdomain(webUrl: string): string | undefined {
  const host = hostnameOf(webUrl);
  const m = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.ghe\.com$/i.exec(host ?? "");
  return m ? (m[1] as string).toLowerCase() : undefined;
}

/** How people name the GitHub side in messages: "github.com" or "SUBDOMAIN.ghe.com". */
export function githubSiteName(webUrl: string): string {
  const subdomain = gheComSubdomain(webUrl);
  return subdomain ? `${subdomain}.ghe.com` : "github.com";
}

/** The API and uploads URLs GitHub uses beside a web URL (same scheme). */
export function derivedGithubUrls(webUrl: string): { api: string; uploads: string } {
  const subdomain = gheComSubdomain(webUrl);
  if (!subdomain) return { api: "https://api.github.com", uploads: "https://uploads.github.com" };
  const scheme = new URL(webUrl).protocol;
  return { api: `${scheme}//api.${subdomain}.ghe.com`, uploads: `${scheme}//uploads.${subdomain}.ghe.com` };
}

/** The oldest GHES that GitHub Connect to GHE.com supports ("Enabling GitHub Connect for GHE.com"). */
export const GHECOM_MIN_GHES_VERSION = "3.12";

/** Whether a GHES version ("3.11.5", "3.12.0.rc1") is at least `min` ("3.12"), by major.minor. */
export function versionAtLeast(version: string, min: string): boolean {
  const [a = 0, b = 0] = version.split(".").map((p) => Number.parseInt(p, 10));
  const [x = 0, y = 0] = min.split(".").map((p) => Number.parseInt(p, 10));
  return a !== x ? a > x : b >= y;
}

export interface GithubHost {
  /** What the host is for, as `check` names it ("API", "auth"). */
  role: "web" | "API" | "uploads" | "auth";
  url: string;
  /**
   * GitHub Connect's own prerequisite lists it: unreachable is a failure. auth.ghe.com comes from
   * GHE.com's network page (people's sign-ins); unreachable is a warning.
   */
  required: boolean;
}

/** Every host `check` and enable's preflight reach, in GitHub's documented order. */
export function connectHosts(urls: { webUrl: string; apiUrl: string; uploadsUrl: string }): GithubHost[] {
  const hosts: GithubHost[] = [
    { role: "web", url: urls.webUrl, required: true },
    { role: "API", url: urls.apiUrl, required: true },
    { role: "uploads", url: urls.uploadsUrl, required: true },
  ];
  const subdomain = gheComSubdomain(urls.webUrl);
  if (subdomain) {
    const scheme = new URL(urls.webUrl).protocol;
    hosts.push({ role: "auth", url: `${scheme}//auth.ghe.com`, required: false });
  }
  return hosts;
}

/** Why a feature is not offered where this connection goes, or undefined when it is. */
export function unavailableOnTarget(feature: string, webUrl: string): string | undefined {
  if (!gheComSubdomain(webUrl)) return undefined;
  if (feature === "server-statistics") return "GitHub does not offer Server Statistics on GHE.com";
  if (feature === "actions") return "GitHub does not offer actions from GitHub.com on GHE.com";
  return undefined;
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
