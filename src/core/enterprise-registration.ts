// Connecting an enterprise account (`enable enterprise:SLUG`): GitHub does not accept manifests
// for apps owned by an enterprise, so an owner registers the app by hand at
// GITHUB_URL/enterprises/SLUG/settings/apps/new ("Registering a GitHub App": for an app owned by
// an enterprise, Enterprise settings → GitHub Apps; such an app "can only be installed on
// organizations within the enterprise", docs.github.com/enterprise-cloud@latest/apps/creating-
// github-apps/setting-up-a-github-app/creating-a-github-app). This file holds what the bot's
// guide page shows and how it reads the credentials form; the flow itself is in enable/enterprise-pages.ts.
import { createPrivateKey } from "node:crypto";
import type { Operation } from "./model.js";
import type { RegisteredApp } from "./ports.js";

/** One value the owner copies into GitHub's registration form. */
export interface RegistrationField {
  label: string;
  value: string;
  note?: string;
}

/** The permissions, as GitHub's registration form names them, with the API's names and levels. */
export const ENTERPRISE_APP_PERMISSIONS: ReadonlyArray<{ group: string; label: string; key: string; level: "read" }> = [
  { group: "Repository permissions", label: "Metadata", key: "metadata", level: "read" },
  { group: "Repository permissions", label: "Issues", key: "issues", level: "read" },
  { group: "Repository permissions", label: "Pull requests", key: "pull_requests", level: "read" },
  { group: "Organization permissions", label: "Members", key: "members", level: "read" },
];

export function newEnterpriseAppUrl(githubUrl: string, slug: string): string {
  return `${githubUrl}/enterprises/${encodeURIComponent(slug)}/settings/apps/new`;
}

export function enterpriseAppSettingsUrl(githubUrl: string, slug: string, appSlug: string): string {
  return `${githubUrl}/enterprises/${encodeURIComponent(slug)}/settings/apps/${encodeURIComponent(appSlug)}`;
}

/** Every field of GitHub's "Register new GitHub App" form, pre-computed for this operation. */
export function registrationFields(input: { op: Operation; ghesUrl: string; setupUrl: string; linkUrl: string }): RegistrationField[] {
  const host = new URL(input.ghesUrl).hostname;
  return [
    { label: "GitHub App name", value: input.op.appName ?? `GHES Connect ${host}` },
    {
      label: "Description",
      value: `GitHub Connect for ${host}, managed by ghconnect. Requested by ${input.op.requestedByGhes ?? input.op.requestedBySlack}.`,
    },
    { label: "Homepage URL", value: input.ghesUrl },
    { label: "Callback URL", value: input.setupUrl, note: "Under “Identifying and authorizing users”." },
    {
      label: "Second callback URL",
      value: input.linkUrl,
      note: "“Add Callback URL”: where people come back after linking their account (`/ghconnect link`), so search runs as them.",
    },
    {
      label: "Request user authorization (OAuth) during installation",
      value: "checked",
      note: "GitHub then sends the installer to the callback URL with a code, which proves who installed the app.",
    },
    { label: "Expire user authorization tokens", value: "checked" },
    { label: "Webhook → Active", value: "unchecked", note: "ghconnect needs no webhook." },
    ...ENTERPRISE_APP_PERMISSIONS.map((p) => ({ label: `${p.group} → ${p.label}`, value: "Read-only" })),
    { label: "Subscribe to events", value: "none" },
  ];
}

export interface CredentialsForm {
  appId: number;
  clientId: string;
  clientSecret: string;
  privateKey: string;
}

/**
 * The form's fields, checked for shape before anything is asked of GitHub. The problem names the
 * field, never its value: the answer must not echo a secret.
 */
export function readCredentialsForm(
  fields: Record<string, string | undefined>,
): { ok: true; form: CredentialsForm } | { ok: false; problem: string } {
  const appId = (fields.app_id ?? "").trim();
  const clientId = (fields.client_id ?? "").trim();
  const clientSecret = (fields.client_secret ?? "").trim();
  const privateKey = (fields.private_key ?? "").replace(/\r\n/g, "\n").trim();
  if (!/^\d{1,12}$/.test(appId))
    return { ok: false, problem: "The App ID is missing or is not a number (it is shown as “App ID” on the app's page)." };
  if (!/^[A-Za-z0-9._-]{8,64}$/.test(clientId)) return { ok: false, problem: "The Client ID is missing or malformed." };
  if (!/^[A-Za-z0-9_]{20,128}$/.test(clientSecret)) return { ok: false, problem: "The client secret is missing or malformed." };
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    return { ok: false, problem: "The private key is missing or is not a PEM file (it starts with -----BEGIN RSA PRIVATE KEY-----)." };
  }
  let keyType: string | undefined;
  try {
    keyType = createPrivateKey(privateKey).asymmetricKeyType;
  } catch {
    return { ok: false, problem: "The private key could not be read as a PEM private key." };
  }
  // GitHub App keys are RSA and the app's JWT is RS256: any other key would only fail at signing.
  if (keyType !== "rsa")
    return { ok: false, problem: "The private key is not an RSA key: use the .pem file GitHub generated for the app." };
  return { ok: true, form: { appId: Number(appId), clientId, clientSecret, privateKey } };
}

/** Why GitHub's own view of the app (`GET /app`) is not the app this enable needs, or undefined. */
export function registrationProblem(app: RegisteredApp, input: { slug: string; clientId: string }): string | undefined {
  if (app.owner.kind !== "enterprise" || app.owner.login.toLowerCase() !== input.slug.toLowerCase()) {
    const owner = app.owner.kind === "enterprise" ? `the enterprise ${app.owner.login}` : `the ${app.owner.kind} ${app.owner.login}`;
    return `The app ${app.slug} (id ${app.id}) is owned by ${owner}, not by the enterprise ${input.slug}.`;
  }
  if (app.clientId !== input.clientId) return `The Client ID does not belong to the app ${app.slug} (id ${app.id}).`;
  const missing = ENTERPRISE_APP_PERMISSIONS.filter((p) => app.permissions[p.key] !== p.level);
  if (missing.length > 0) {
    return `The app ${app.slug} lacks ${missing.map((p) => `${p.group.replace(" permissions", "")} → ${p.label}: Read-only`).join(", ")}. Set ${missing.length === 1 ? "it" : "them"} in the app's settings, then send the form again.`;
  }
  return undefined;
}
