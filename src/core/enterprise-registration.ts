// Connecting an enterprise account (`enable enterprise:SLUG`): GitHub does not accept manifests
// for apps owned by an enterprise, so an owner registers the app by hand at
// GITHUB_URL/enterprises/SLUG/settings/apps/new ("Registering a GitHub App": for an app owned by
// an enterprise, Enterprise settings → GitHub Apps; such an app "can only be installed on
// organizations within the enterprise", docs.github.com/enterprise-cloud@latest/apps/creating-
// github-apps/setting-up-a-github-app/creating-a-github-app). This file holds what the bot's
// guide page shows and how it reads the credentials form; the flow itself is in enable/enterprise-pages.ts.
import { createPrivateKey } from "node:crypto";
import type { Operation } from "./model.js";
import type { DotcomGateway, RegisteredApp } from "./ports.js";

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

/**
 * What the guide says first: which slug this enable is for, how to find the right one, and when
 * ghconnect can check it. GitHub answers nothing about an enterprise without a signed-in caller
 * (its REST description has no `GET /enterprises/{enterprise}`, and GraphQL needs a token), so the
 * slug is checked only once the bot holds the app's credentials (`GET /app` must show the app owned
 * by this enterprise), then again with the installer's own token.
 */
export function slugCheckNotice(githubUrl: string, slug: string): string {
  const page = `${githubUrl}/enterprises/${encodeURIComponent(slug)}`;
  return `This enable is for the enterprise with the slug “${slug}”. The slug is the last part of the enterprise's address, ${page} (on GitHub: your profile picture → Your enterprises, then the enterprise; owners see its settings at ${page}/settings). GitHub tells nobody who is not signed in whether an enterprise exists, so ghconnect checks the slug when you send the app's credentials below: GitHub must show the app as owned by the enterprise ${slug}, or the form is refused and nothing is stored. If the link below answers “404” while you are signed in as an owner, the slug is wrong: press Cancel on the card in Slack and run /ghconnect enable enterprise:SLUG with the right one.`;
}

export interface CredentialsForm {
  appId: number;
  clientId: string;
  clientSecret: string;
  privateKey: string;
}

// A PEM private key's first line, spelt in parts so that no source file holds a key's header.
const PEM_RSA_HEADER = `${"-".repeat(5)}BEGIN RSA PRIVATE KEY${"-".repeat(5)}`;
const PEM_KEY_START = /^-{5}BEGIN (RSA )?PRIVATE KEY-{5}/;

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
  if (!PEM_KEY_START.test(privateKey)) {
    return { ok: false, problem: `The private key is missing or is not a PEM file (it starts with ${PEM_RSA_HEADER}).` };
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

/**
 * Why GitHub refuses the form's client secret, or could not judge it; undefined when it accepts it.
 * Asked once `GET /app` has shown the client id to be the app's, so a refusal can only mean the
 * secret: caught here, it would otherwise surface only when the installer returns and the code
 * exchange fails. An answer that proves nothing (422 "spammed", 5xx, none) is not taken as a yes.
 */
export async function clientSecretProblem(
  dotcom: Pick<DotcomGateway, "clientSecretAccepted">,
  input: { app: RegisteredApp; form: CredentialsForm },
): Promise<{ refusal: "secret_refused" | "secret_unverified"; problem: string } | undefined> {
  const check = await dotcom.clientSecretAccepted(input.form.clientId, input.form.clientSecret);
  if (check.kind === "accepted") return undefined;
  if (check.kind === "unchecked") {
    return {
      refusal: "secret_unverified",
      problem: `GitHub could not check the client secret right now (${check.status === null ? "no answer" : `HTTP ${check.status}`}); nothing was stored; send the form again in a minute.`,
    };
  }
  return {
    refusal: "secret_refused",
    problem: `GitHub refused the client secret for the Client ID of the app ${input.app.slug} (id ${input.app.id}): it is not one of the app's current client secrets. On the app's page, under “Client secrets”, generate a new one and paste it here (GitHub shows a secret only once).`,
  };
}
