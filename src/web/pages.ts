// The pages a browser sees during enable and linking: small, clear, styled, no framework. Every
// value is escaped; the manifest form posts itself to GitHub (with a button for browsers without JS).
import type { PageOutcome } from "../core/enable/index.js";
import type { LinkPageOutcome } from "../core/link-outcome.js";

/** The link start page, with the cookie that keeps the browser's name. */
type LinkConfirmPage = Extract<LinkPageOutcome, { kind: "confirm" }> & { cookies: string[] };

/** What a browser request gets: a redirect, a page with its HTTP status, or one of the forms (enable's, linking's). */
export type PageResult =
  | { kind: "redirect"; location: string /** Set-Cookie values, for the link pages' browser binding. */; cookies?: string[] }
  | {
      kind: "page";
      status: number;
      tone: "ok" | "neutral" | "error";
      title: string;
      message: string;
      link?: { href: string; label: string };
      /** Slack got the news (the card was updated or the requester answered): the page may say so. */
      notified?: boolean;
    }
  | Extract<PageOutcome, { kind: "manifest" | "register" }>
  | LinkConfirmPage;

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Slack mrkdwn in core's messages: `code` and <url|label> read fine as plain text on a page.
const plainText = (s: string) => s.replace(/<(https?:[^|>]+)\|([^>]+)>/g, "$2 ($1)").replace(/`/g, "");

function layout(title: string, body: string, tone: "ok" | "error" | "neutral"): string {
  const accent = tone === "ok" ? "#1a7f37" : tone === "error" ? "#cf222e" : "#0969da";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)} · ghconnect</title>
<style>
:root{color-scheme:light dark}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f8fa;color:#1f2328}
main{max-width:560px;margin:10vh auto;padding:32px;background:#fff;border:1px solid #d0d7de;border-top:4px solid ${accent};border-radius:8px}
h1{font-size:22px;margin:0 0 12px;color:${accent}}
p{margin:0 0 16px}.brand{font:600 13px/1 system-ui;letter-spacing:.04em;text-transform:uppercase;color:#656d76;margin-bottom:18px}
a.button,button{display:inline-block;background:${accent};color:#fff;border:0;border-radius:6px;padding:10px 18px;font:600 15px system-ui;text-decoration:none;cursor:pointer}
.muted{color:#656d76;font-size:14px}
.warning{border-left:4px solid #cf222e;padding:8px 12px;background:#ffebe9;color:#1f2328}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}main{background:#161b22;border-color:#30363d}.muted,.brand{color:#8d96a0}}
</style></head>
<body><main><div class="brand">ghconnect · GitHub Connect</div>${body}</main></body></html>`;
}

// "Slack has the details" only when something was posted or updated there for this request.
function footer(result: Extract<PageResult, { kind: "page" }>): string {
  if (result.notified) return "You can close this tab; Slack has the details.";
  if (result.tone !== "error") return "You can close this tab.";
  return "You can close this tab. Nothing about this was posted in Slack; /ghconnect status there shows where things stand.";
}

export function renderPage(result: Exclude<PageResult, { kind: "redirect" }>): { status: number; html: string } {
  if (result.kind === "confirm") return { status: 200, html: layout("Confirm who you are linking", linkConfirmBody(result), "neutral") };
  if (result.kind === "manifest") {
    const body = `<h1>Creating the GitHub App for ${escapeHtml(result.org)}</h1>
<p>Taking you to github.com, where you will confirm the app that connects this server to <b>${escapeHtml(result.org)}</b>. Sign in there as an owner of ${escapeHtml(result.org)}.</p>
<form id="manifest-form" method="post" action="${escapeHtml(result.action)}" data-autosubmit="true">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(result.manifest))}">
<button type="submit">Continue to GitHub</button></form>
<p class="muted">The app requests read-only access: metadata, organization members (to check the installer is an owner), issues and pull requests (unified search).</p>
<script>document.getElementById("manifest-form").submit();</script>`;
    return { status: 200, html: layout("Continue on GitHub", body, "neutral") };
  }
  if (result.kind === "register") return { status: 200, html: layout("Register the GitHub App", registerBody(result), "neutral") };
  const link = result.link ? `<p><a class="button" href="${escapeHtml(result.link.href)}">${escapeHtml(result.link.label)}</a></p>` : "";
  const body = `<h1>${escapeHtml(result.title)}</h1><p>${escapeHtml(plainText(result.message))}</p>${link}<p class="muted">${footer(result)}</p>`;
  return { status: result.status, html: layout(result.title, body, result.tone) };
}

// The enterprise registration guide: each value with a copy button (type="button": copying never
// submits), then the credentials form, which posts to the bot itself, never to Slack or GitHub.
function registerBody(result: Extract<PageResult, { kind: "register" }>): string {
  const rows = result.fields
    .map(
      (f, i) =>
        `<tr><th>${escapeHtml(f.label)}</th><td><code id="field-${i}">${escapeHtml(f.value)}</code>${
          f.note ? `<div class="muted">${escapeHtml(f.note)}</div>` : ""
        }</td><td><button type="button" class="copy" data-copy="field-${i}">Copy</button></td></tr>`,
    )
    .join("");
  return `<h1>Register the GitHub App for the enterprise ${escapeHtml(result.enterprise)}</h1>
<p id="slug-check"><strong>First, check the slug.</strong> ${escapeHtml(result.slugNotice)}</p>
<p>GitHub does not create apps for an enterprise account from a manifest, so this one is registered by hand. Signed in to GitHub as an owner of the enterprise, open <a href="${escapeHtml(result.newAppUrl)}" target="_blank" rel="noopener">${escapeHtml(result.newAppUrl)}</a> and fill in:</p>
<table class="fields">${rows}</table>
<p>Then, on the new app's page: note the App ID and Client ID, click “Generate a new client secret”, and “Generate a private key” (a .pem file downloads).</p>
<h2>The app's credentials</h2>
<p class="muted">They go to ghconnect only, encrypted at rest; never paste them into Slack. ghconnect checks them with GitHub before keeping them. This form works once, until ${escapeHtml(result.expiresAt)}.</p>
<form id="credentials-form" method="post" action="${escapeHtml(result.formAction)}" autocomplete="off">
<input type="hidden" name="state" value="${escapeHtml(result.state)}">
<p><label>App ID<br><input name="app_id" inputmode="numeric" required></label></p>
<p><label>Client ID<br><input name="client_id" required></label></p>
<p><label>Client secret<br><input name="client_secret" type="password" required></label></p>
<p><label>Private key (the .pem file's contents)<br><textarea name="private_key" rows="8" cols="64" required spellcheck="false"></textarea></label></p>
<button type="submit">Check and continue to the installation</button></form>
<script>for (const b of document.querySelectorAll("button.copy")) b.addEventListener("click", () => navigator.clipboard.writeText(document.getElementById(b.dataset.copy).textContent));</script>`;
}

// The start of a person's sign-in (`/ghconnect link`): says whose link it is before anything
// happens, so a forwarded link is recognised; only the form's button continues.
function linkConfirmBody(result: LinkConfirmPage): string {
  const person = escapeHtml(result.person);
  const where = result.workspace ? ` in the Slack workspace ${escapeHtml(result.workspace)}` : "";
  return `<h1>Link ${escapeHtml(result.sideLabel)} to the Slack user ${person}?</h1>
<p>This is the link you asked for with <code>/ghconnect link</code> at ${escapeHtml(result.askedAt)}, made for the Slack user <b>${person}</b> (Slack member ID)${where}. Continuing signs you in to <b>${escapeHtml(result.sideLabel)}</b> and links the account you sign in with to that Slack user: ghconnect will then search and act on their behalf as that account.</p>
<p class="warning"><b>Only continue if you are ${person} in Slack.</b> If someone sent you this link, close this page: continuing gives them your GitHub identity.</p>
<form method="post" action="${escapeHtml(result.formAction)}">
<input type="hidden" name="state" value="${escapeHtml(result.state)}">
<input type="hidden" name="token" value="${escapeHtml(result.token)}">
<button type="submit">I am ${person}: continue to ${escapeHtml(result.sideLabel)}</button></form>
<p class="muted">Nothing has been linked yet. The link works once, for 10 minutes from when ghconnect gave it.</p>`;
}
