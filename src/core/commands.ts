// The meaning of `/ghconnect …`: text in, a typed command or a sentence saying what is wrong.
// Pure: no I/O, so it is cheap on the ack path and easy to fuzz.
import { FEATURES, type FeatureName, findFeature } from "./features.js";

export type Command =
  | { name: "help" }
  | { name: "status" }
  | { name: "check" }
  | { name: "enable"; org: string; enterprise?: true }
  | { name: "disable"; org: string; enterprise?: true }
  | { name: "features" }
  | { name: "feature"; action: "enable" | "disable" | "run"; feature: FeatureName }
  | { name: "search"; query: string }
  | { name: "audit"; limit: number }
  | { name: "audit-verify" }
  | { name: "admins" }
  | { name: "admins-add"; slackUserId: string; ghesLogin: string }
  | { name: "admins-remove"; slackUserId: string }
  | { name: "link" }
  | { name: "unlink"; side?: "ghes" | "github" }
  | { name: "whoami" };

export type CommandName = Command["name"];

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

/** Longest command text we read; Slack allows more, but nothing we accept is near this long. */
export const MAX_COMMAND_LENGTH = 300;
const MAX_SEARCH_QUERY = 256;

// Enterprise slugs: lowercase letters, digits and single hyphens, as GitHub derives them from the name.
const ENTERPRISE_SLUG = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,59}$/i;
const ENTERPRISE_PREFIX = "enterprise:";
const ORG_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/i;
const GHES_LOGIN = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])|_){0,38}$/i;
// Slack escapes mentions in slash commands as <@U123|name> (should_escape: true in the manifest).
const MENTION = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$/;

const SUBCOMMANDS = [
  "help",
  "status",
  "check",
  "doctor",
  "enable",
  "connect",
  "disable",
  "disconnect",
  "features",
  "feature",
  "search",
  "audit",
  "admins",
  "link",
  "unlink",
  "whoami",
] as const;

/** Why an organization name is not one GitHub would accept, or undefined when it is fine. */
export function orgNameProblem(name: string): string | undefined {
  if (ORG_NAME.test(name)) return undefined;
  const shown = printable(name);
  if (/["'\s]/.test(name)) return `\`${shown}\` is not an organization name: GitHub names have no spaces or quotes.`;
  if (name.length > 39) return `\`${shown}\` is not an organization name: GitHub names are at most 39 characters.`;
  if (name.startsWith("-") || name.endsWith("-")) return `\`${shown}\` is not an organization name: it cannot start or end with a hyphen.`;
  if (name.includes("--")) return `\`${shown}\` is not an organization name: hyphens cannot be doubled.`;
  return `\`${shown}\` is not an organization name: use letters, digits and single hyphens only.`;
}

/** Parses the text after `/ghconnect`. */
export function parseCommand(rawText: string): ParseResult {
  const text = rawText.replace(/\u00a0/g, " ").trim();
  if (text.length > MAX_COMMAND_LENGTH) {
    return fail(`That command is ${text.length} characters long; ghconnect commands are at most ${MAX_COMMAND_LENGTH}.`);
  }
  if (text === "") return { ok: true, command: { name: "help" } };
  const [head = "", ...rest] = text.split(/\s+/);
  const sub = head.toLowerCase();
  const args = rest;
  const argText = text.slice(head.length).trim();

  switch (sub as (typeof SUBCOMMANDS)[number]) {
    case "help":
      return { ok: true, command: { name: "help" } };
    case "status":
      return noArgs("status", args, { name: "status" });
    case "check":
    case "doctor":
      return noArgs(sub, args, { name: "check" });
    case "enable":
    case "connect":
    case "disable":
    case "disconnect":
      return parseOrgCommand(sub, argText, args);
    case "features":
      return noArgs("features", args, { name: "features" });
    case "feature":
      return parseFeature(args);
    case "search": {
      if (argText === "") return fail("`search` needs something to look for, e.g. `/ghconnect search flaky test`.");
      if (argText.length > MAX_SEARCH_QUERY) return fail(`Search queries are at most ${MAX_SEARCH_QUERY} characters.`);
      return { ok: true, command: { name: "search", query: argText } };
    }
    case "audit":
      return parseAudit(args);
    case "admins":
      return parseAdmins(args);
    case "link":
      return noArgs("link", args, { name: "link" });
    case "whoami":
      return noArgs("whoami", args, { name: "whoami" });
    case "unlink":
      return parseUnlink(args);
    default:
      return fail(
        `\`${printable(head)}\` is not a ghconnect command. Try one of: ${["help", "status", "check", "enable ORG", "disable ORG", "features", "search QUERY", "audit", "admins", "link", "whoami"].map((c) => `\`${c}\``).join(", ")}.`,
      );
  }
}

function parseOrgCommand(sub: string, argText: string, args: string[]): ParseResult {
  const verb = sub === "connect" ? "enable" : sub === "disconnect" ? "disable" : (sub as "enable" | "disable");
  if (args.length === 0) {
    return fail(
      `\`${sub}\` needs the GitHub organization, e.g. \`/ghconnect ${sub} acme\`, or an enterprise account, e.g. \`/ghconnect ${sub} enterprise:acme-corp\`.`,
    );
  }
  if (args.length === 1 && (args[0] as string).toLowerCase().startsWith(ENTERPRISE_PREFIX)) {
    const slug = (args[0] as string).slice(ENTERPRISE_PREFIX.length);
    if (slug === "") return fail(`\`${sub} enterprise:\` needs a slug, e.g. \`/ghconnect ${sub} enterprise:acme-corp\`.`);
    if (!ENTERPRISE_SLUG.test(slug)) {
      return fail(
        `\`${printable(slug)}\` is not an enterprise slug: use the slug from the enterprise's URL (letters, digits and single hyphens, e.g. \`/ghconnect ${sub} enterprise:acme-corp\` for github.com/enterprises/acme-corp).`,
      );
    }
    return { ok: true, command: { name: verb, org: slug.toLowerCase(), enterprise: true } };
  }
  if (/^["'].*["']$/.test(argText) || args.length > 1) {
    const problem = orgNameProblem(argText);
    if (problem) return fail(`${problem} \`${sub}\` takes exactly one organization name, e.g. \`/ghconnect ${sub} acme\`.`);
  }
  const org = args[0] as string;
  const problem = orgNameProblem(org);
  if (problem)
    return fail(`${problem} A plain name means an organization; for an enterprise account write \`/ghconnect ${sub} enterprise:SLUG\`.`);
  return { ok: true, command: { name: verb, org: org.toLowerCase() } };
}

function parseFeature(args: string[]): ParseResult {
  const [action = "", name = "", ...extra] = args;
  const names = FEATURES.map((f) => `\`${f.name}\``).join(", ");
  if (!["enable", "disable", "run"].includes(action.toLowerCase())) {
    return fail("Use `/ghconnect feature enable NAME` or `/ghconnect feature disable NAME` (see `/ghconnect features`).");
  }
  if (name === "") return fail(`Which feature? One of: ${names}.`);
  const feature = findFeature(name);
  if (!feature || extra.length > 0)
    return fail(`\`${printable(args.slice(1).join(" "))}\` is not a GitHub Connect feature. One of: ${names}.`);
  if (action.toLowerCase() === "run" && feature.name !== "server-statistics") {
    return fail("Only `server-statistics` can be run on demand: `/ghconnect feature run server-statistics`.");
  }
  return { ok: true, command: { name: "feature", action: action.toLowerCase() as "enable" | "disable" | "run", feature: feature.name } };
}

function parseAudit(args: string[]): ParseResult {
  if (args.length === 0) return { ok: true, command: { name: "audit", limit: 10 } };
  const [first = "", ...extra] = args;
  if (extra.length === 0 && first.toLowerCase() === "verify") return { ok: true, command: { name: "audit-verify" } };
  if (extra.length === 0 && /^\d{1,3}$/.test(first)) {
    const n = Number(first);
    if (n >= 1 && n <= 50) return { ok: true, command: { name: "audit", limit: n } };
  }
  return fail("Use `/ghconnect audit` (last 10), `/ghconnect audit N` with N from 1 to 50, or `/ghconnect audit verify`.");
}

function parseAdmins(args: string[]): ParseResult {
  if (args.length === 0) return { ok: true, command: { name: "admins" } };
  const [action = "", who = "", login, ...extra] = args;
  const verb = action.toLowerCase();
  if (verb === "add") {
    const user = MENTION.exec(who);
    if (!user) return fail("Use `/ghconnect admins add @user ghes-login`: mention the Slack user, then their GHES login.");
    if (!login || extra.length > 0 || !GHES_LOGIN.test(login)) {
      return fail(`\`${printable(login ?? "")}\` is not a GHES login. Use \`/ghconnect admins add @user ghes-login\`.`);
    }
    return { ok: true, command: { name: "admins-add", slackUserId: (user[1] ?? user[2]) as string, ghesLogin: login } };
  }
  if (verb === "remove") {
    const user = MENTION.exec(who);
    if (!user || login !== undefined) return fail("Use `/ghconnect admins remove @user`: mention the Slack user to remove.");
    return { ok: true, command: { name: "admins-remove", slackUserId: (user[1] ?? user[2]) as string } };
  }
  return fail("Use `/ghconnect admins`, `/ghconnect admins add @user ghes-login` or `/ghconnect admins remove @user`.");
}

function parseUnlink(args: string[]): ParseResult {
  if (args.length === 0) return { ok: true, command: { name: "unlink" } };
  const side = args.length === 1 ? (args[0] as string).toLowerCase() : "";
  if (side === "ghes" || side === "github") return { ok: true, command: { name: "unlink", side } };
  return fail("Use `/ghconnect unlink` (both accounts), `/ghconnect unlink ghes` or `/ghconnect unlink github`.");
}

function noArgs(sub: string, args: string[], command: Command): ParseResult {
  if (args.length > 0) return fail(`\`${sub}\` takes no arguments. Try \`/ghconnect ${sub}\`.`);
  return { ok: true, command };
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}

/** Echo user text back safely: no backticks, no control characters, not too long. */
function printable(s: string): string {
  const cleaned = s.replace(/[`\u0000-\u001f\u007f]/g, "?");
  return cleaned.length > 40 ? `${cleaned.slice(0, 40)}…` : cleaned;
}
