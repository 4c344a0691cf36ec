// `ghconnect audit …` for auditors and operators: verify the database against the admin channel's
// witness, export JSON Lines ending with a signed head, verify an export alone, and print the
// public key to pin. Reads only DATABASE_URL, the Slack settings (to read the channel) and the
// key the export is signed with.
import { readFileSync } from "node:fs";
import { LogLevel, WebClient } from "@slack/web-api";
import { announce } from "./core/announce.js";
import { exportSigningKey, keyFingerprint, publicKeyText, SigningKeyProblem, signHead, verifyExport } from "./core/audit-head.js";
import { systemClock } from "./core/clock.js";
import type { WitnessSource } from "./core/ports.js";
import { verifyTrail, witnessSentence } from "./core/witness.js";
import { keyId } from "./db/secret-box.js";
import type { Store } from "./db/store.js";
import { createLogger } from "./log.js";
import { SlackNotifier } from "./slack/notifier.js";
import { SlackWitnessReader } from "./slack/witness-reader.js";

export const AUDIT_USAGE = `  audit verify                              recompute the audit hash chain and compare it with the admin channel's
                                            witness (SLACK_BOT_TOKEN, SLACK_ADMIN_CHANNEL; SLACK_API_URL if not Slack's)
  audit verify --file audit.jsonl [--from-hash HASH] [--public-key KEY]
                                            check an export alone: its chain and its signed head; a file that does not
                                            start at entry 1 needs --from-hash (the hash of the entry before its first);
                                            the key is pinned by --public-key, else derived from GHCONNECT_ENCRYPTION_KEY /
                                            GHCONNECT_AUDIT_SIGNING_KEY; exit 0 verified, 1 changed, 3 intact but unpinned
  audit export [--since DATE] [--format jsonl]   write the audit log as JSON Lines to stdout, ending with a signed head
  audit public-key                          print the Ed25519 public key exports are signed with (to pin it)`;

export interface AuditCliDeps {
  env: NodeJS.ProcessEnv;
  fail(message: string, code?: number): never;
  flag(args: string[], name: string): string | undefined;
  withStore<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  out(text: string): Promise<void>;
}

/** Runs `audit SUB …`; returns the exit code. */
export async function auditCli(sub: string | undefined, rest: string[], deps: AuditCliDeps): Promise<number> {
  if (sub === "verify") return rest.includes("--file") ? verifyFile(rest, deps) : verifyDatabase(deps);
  if (sub === "export") return exportJsonl(rest, deps);
  if (sub === "public-key") {
    const key = signingKey(deps);
    await refuseRetiredKey(deps, "prints");
    await deps.out(`${publicKeyText(key)}\n`);
    process.stderr.write(`fingerprint ${keyFingerprint(publicKeyText(key))}\n`);
    return 0;
  }
  deps.fail(`unknown audit command: ${[sub, ...rest].join(" ")}\n${AUDIT_USAGE}`);
}

function signingKey(deps: AuditCliDeps) {
  try {
    return exportSigningKey({ signingKey: deps.env.GHCONNECT_AUDIT_SIGNING_KEY, encryptionKey: deps.env.GHCONNECT_ENCRYPTION_KEY });
  } catch (error) {
    if (error instanceof SigningKeyProblem) deps.fail(error.message);
    throw error;
  }
}

/**
 * Without GHCONNECT_AUDIT_SIGNING_KEY the export key is derived from GHCONNECT_ENCRYPTION_KEY: a
 * key retired by rotate-key (which the bot and `check` refuse) would yield a key nobody pinned.
 */
async function refuseRetiredKey(deps: AuditCliDeps, doing: string): Promise<void> {
  const given = deps.env.GHCONNECT_ENCRYPTION_KEY?.trim();
  if (deps.env.GHCONNECT_AUDIT_SIGNING_KEY?.trim() || !given) return;
  const id = keyId(Buffer.from(given, "base64"));
  // A database not created yet has no active key: nothing to compare with.
  const active = await deps.withStore((store) => store.encryptionKeys.active().catch(() => undefined));
  if (active && active.keyId !== id)
    deps.fail(
      `GHCONNECT_ENCRYPTION_KEY (id ${id}) is not the active key (id ${active.keyId} since ${active.since}); this command ${doing} a signing key derived from it, which is not the bot's. Set GHCONNECT_ENCRYPTION_KEY to the active key (the one the bot runs with), or set GHCONNECT_AUDIT_SIGNING_KEY if the bot is given one.`,
    );
}

/** The bot's Slack client and admin channel, when the Slack settings are in the environment. */
function slackFrom(env: NodeJS.ProcessEnv) {
  const token = env.SLACK_BOT_TOKEN?.trim();
  const channel = env.SLACK_ADMIN_CHANNEL?.trim();
  if (!token || !channel) return undefined;
  const apiUrl = (env.SLACK_API_URL?.trim() || "https://slack.com/api/").replace(/\/*$/, "/");
  // A terminal command must not wait half an hour on Slack's default retries.
  const client = new WebClient(token, { slackApiUrl: apiUrl, logLevel: LogLevel.ERROR, retryConfig: { retries: 1 }, timeout: 10_000 });
  return { client, channel };
}

async function verifyDatabase(deps: AuditCliDeps): Promise<number> {
  const slack = slackFrom(deps.env);
  const witnesses: WitnessSource | undefined = slack && new SlackWitnessReader(slack.client, slack.channel);
  return deps.withStore(async (store) => {
    const report = await verifyTrail(() => store.audit.all(), witnesses);
    const { chain } = report;
    await deps.out(
      chain.ok
        ? `${chain.count} ${chain.count === 1 ? "entry" : "entries"}, chain intact; head hash (the newest entry's, for --from-hash): ${chain.head}\n`
        : `chain BROKEN at entry #${chain.badSeq} (${chain.badId}): ${chain.reason}\n`,
    );
    await deps.out(`${witnessSentence(report.verdict).replace(/`/g, "")}\n`);
    const entry = await store.appendAudit({
      actor: { slack: null },
      action: "audit.verify",
      outcome: report.ok ? "ok" : "failed",
      details: { ...report.details, via: "cli" },
    });
    // A failure is posted to the admin channel, as when it is found from Slack.
    if (!report.ok && slack) {
      const notifier = new SlackNotifier(slack.client, slack.channel, globalThis.fetch, createLogger("silent"));
      await announce(
        {
          notifier,
          operationCard: async (id) => (await store.operations.get(id))?.card,
          approvalCard: async (id) => (await store.approvals.get(id))?.card,
        },
        entry,
      );
    }
    return report.ok ? 0 : 1;
  });
}

/** Exit code of `audit verify --file` when the file is intact but its head's key was not pinned. */
export const UNPINNED_EXIT = 3;

/**
 * The key an export's head must be signed with: `--public-key KEY`, else the bot's own key when
 * this host's environment can derive it (GHCONNECT_AUDIT_SIGNING_KEY or GHCONNECT_ENCRYPTION_KEY).
 * Without one, the head proves only that whoever wrote the file signed it (self-signed).
 */
function pinnedKey(rest: string[], deps: AuditCliDeps): { key: string; from: string } | undefined {
  const given = deps.flag(rest, "--public-key");
  if (given) return { key: given, from: "--public-key" };
  if (!deps.env.GHCONNECT_AUDIT_SIGNING_KEY?.trim() && !deps.env.GHCONNECT_ENCRYPTION_KEY?.trim()) return undefined;
  return { key: publicKeyText(signingKey(deps)), from: "the bot's key in this environment" };
}

async function verifyFile(rest: string[], deps: AuditCliDeps): Promise<number> {
  const file = deps.flag(rest, "--file") as string;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    deps.fail(`cannot read ${file}: ${(error as Error).message}`);
  }
  const pinned = pinnedKey(rest, deps);
  const verdict = verifyExport(text.split("\n"), { file, fromHash: deps.flag(rest, "--from-hash"), publicKey: pinned?.key });
  if (!verdict.ok) {
    if (verdict.refused) deps.fail(verdict.message);
    await deps.out(`${verdict.message}${pinned && verdict.message.includes("not by the pinned") ? ` (pinned from ${pinned.from})` : ""}\n`);
    return 1;
  }
  const { head } = verdict;
  const range = head.first_seq === null ? "no entries" : `entries #${head.first_seq}–#${head.seq}`;
  if (!pinned) {
    // Anyone can cut a file short and sign a new head with a key of their own: without the bot's
    // key to compare with, an intact chain and head prove nothing about who wrote the file.
    await deps.out(
      `${verdict.count} ${verdict.count === 1 ? "entry" : "entries"}, chain intact (${range}); the head is self-signed by key ${keyFingerprint(head.public_key)}, which is not pinned, so the file is NOT verified: pass --public-key KEY (from \`ghconnect audit public-key\` on the bot's host), or run this where GHCONNECT_ENCRYPTION_KEY is set\n`,
    );
    return UNPINNED_EXIT;
  }
  await deps.out(
    `${verdict.count} ${verdict.count === 1 ? "entry" : "entries"}, chain intact (${range}); signed head verifies: #${head.seq} ${head.hash.slice(0, 12)}, exported ${head.exported_at}, key ${keyFingerprint(head.public_key)} (pinned from ${pinned.from})\n`,
  );
  return 0;
}

async function exportJsonl(rest: string[], deps: AuditCliDeps): Promise<number> {
  const format = deps.flag(rest, "--format") ?? "jsonl";
  if (format !== "jsonl") deps.fail("only --format jsonl is supported");
  const since = deps.flag(rest, "--since");
  if (since && Number.isNaN(Date.parse(since))) deps.fail(`--since ${since} is not a date (use e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  // The key first: a missing key must stop the export before any line is written.
  const key = signingKey(deps);
  await refuseRetiredKey(deps, "would sign the export with");
  await deps.withStore(async (store) => {
    let first: { seq: number; prev_hash: string } | undefined;
    let last: { seq: number; hash: string } | undefined;
    let count = 0;
    for await (const entry of store.audit.all({ since: since ? new Date(since).toISOString() : undefined })) {
      first ??= entry;
      last = entry;
      count++;
      await deps.out(`${JSON.stringify(entry)}\n`);
    }
    await deps.out(`${JSON.stringify(signHead({ first, last, count, now: systemClock(), key }))}\n`);
  });
  return 0;
}
