// What an enterprise owner does by hand for `enable enterprise:SLUG`, for the demo: read the
// bot's registration guide, fill in GitHub's "Register new GitHub App" form under the enterprise
// with the guide's values, copy the new app's id, client id, secret and private key into the
// bot's credentials form, and follow where it leads (the installation) in a browser.
import { type BrowseResult, pageText, type SandboxBrowser } from "./browser.js";

const decode = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));

export interface OwnerRun {
  steps: string[];
  result: BrowseResult;
}

export async function registerAsEnterpriseOwner(input: {
  guideUrl: string;
  githubWebUrl: string;
  githubLogin: string;
  browser: SandboxBrowser;
  /** The owner's network (the sandbox's, so GHE.com names resolve). */
  fetch?: typeof globalThis.fetch;
}): Promise<OwnerRun> {
  const steps: string[] = [];
  const guideHtml = await (await fetch(input.guideUrl)).text();
  const fields = new Map<string, string>();
  for (const m of guideHtml.matchAll(/<tr><th>([^<]*)<\/th><td><code id="field-\d+">([^<]*)<\/code>/g))
    fields.set(decode(m[1] as string), decode(m[2] as string));
  const newApp = /open <a href="([^"]+)"/.exec(guideHtml)?.[1];
  const state = /name="state" value="([^"]*)"/.exec(guideHtml)?.[1];
  const formAction = /id="credentials-form" method="post" action="([^"]*)"/.exec(guideHtml)?.[1];
  if (!newApp || !state || !formAction) {
    return { steps, result: { hops: [], finalUrl: input.guideUrl, status: 400, text: pageText(guideHtml), html: guideHtml } };
  }
  steps.push(`read the guide: ${fields.size} fields to copy into ${decode(newApp)}`);
  const registered = await (input.fetch ?? fetch)(new URL(decode(newApp), input.githubWebUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-sandbox-user": input.githubLogin },
    body: new URLSearchParams({
      name: fields.get("GitHub App name") ?? "",
      url: fields.get("Homepage URL") ?? "",
      callback_url: fields.get("Callback URL") ?? "",
      callback_url_2: fields.get("Second callback URL") ?? "",
      request_oauth_on_install: fields.get("Request user authorization (OAuth) during installation") === "checked" ? "on" : "",
      permission_metadata: "read",
      permission_issues: "read",
      permission_pull_requests: "read",
      permission_members: "read",
    }),
  });
  const appHtml = await registered.text();
  steps.push(`registered the app on GitHub as ${input.githubLogin} → HTTP ${registered.status}`);
  if (registered.status !== 201)
    return { steps, result: { hops: [], finalUrl: decode(newApp), status: registered.status, text: pageText(appHtml), html: appHtml } };
  const credentials = new URLSearchParams({
    state: decode(state),
    app_id: /data-app-id="(\d+)"/.exec(appHtml)?.[1] ?? "",
    client_id: /data-client-id="([^"]+)"/.exec(appHtml)?.[1] ?? "",
    client_secret: /data-client-secret="([^"]+)"/.exec(appHtml)?.[1] ?? "",
    private_key: decode(/<pre data-private-key>([\s\S]*?)<\/pre>/.exec(appHtml)?.[1] ?? ""),
  });
  const submitted = await fetch(decode(formAction), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: credentials,
  });
  steps.push(`gave ghconnect the app's credentials on its form → HTTP ${submitted.status}`);
  const next = submitted.headers.get("location");
  if (!next) {
    const html = await submitted.text();
    return { steps, result: { hops: [], finalUrl: decode(formAction), status: submitted.status, text: pageText(html), html } };
  }
  return { steps, result: await input.browser.browse(next) };
}
