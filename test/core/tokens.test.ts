// The refresh job's bookkeeping when GitHub minted nothing: auth-app can hand back the token
// already held (a refresh joining a lookup in flight for the same installation), and that must not
// read as a refresh in the audit trail or the metric. The gateway here returns the held token, as
// auth-app does then; the end-to-end refresh against the sandbox is in test/e2e/token-refresh.test.ts.
import { describe, expect, it } from "vitest";
import type { AuditInput } from "../../src/core/audit.js";
import type { Connection } from "../../src/core/model.js";
import type { DotcomGateway, Notifier, TokenCache } from "../../src/core/ports.js";
import { TokenKeeper, type TokenStore } from "../../src/core/tokens.js";

const now = new Date("2026-11-29T12:00:00Z");
const heldExpiry = "2026-11-29T12:09:00.000Z"; // nine minutes left: due

function keeper(returned: { token: string; expiresAt: string }) {
  const audited: AuditInput[] = [];
  const counted: string[] = [];
  const connection = { id: "c1", org: "acme", appId: 1, installationId: 7, tokenExpiresAt: heldExpiry } as Connection;
  const store: TokenStore = {
    connections: { active: async () => connection, noteToken: async () => {}, noteRefreshFailure: async () => true },
    jobs: { claimSlot: async () => true },
    credentials: { get: async () => ({ secret: "pem" }) },
    appendAudit: async (entry) => {
      audited.push(entry);
      return undefined as never;
    },
  };
  const tokens = new TokenKeeper({
    store,
    dotcom: { installationToken: async () => returned } as unknown as DotcomGateway,
    notifier: { adminChannel: "C0ADMINS01", post: async () => undefined } as unknown as Notifier,
    clock: () => now,
    replica: "r1",
    tokenCache: () => ({}) as TokenCache,
    onRefresh: (outcome) => counted.push(outcome),
  });
  return { tokens, audited, counted };
}

describe("token refresh bookkeeping", () => {
  it("a due refresh that gets the held token back writes no token.refreshed and counts nothing", async () => {
    const { tokens, audited, counted } = keeper({ token: "ghs_held", expiresAt: heldExpiry });
    expect(await tokens.refreshIfDue()).toBe("unchanged");
    expect(audited).toEqual([]);
    expect(counted).toEqual([]);
  });

  it("a due refresh that gets a new token audits token.refreshed with its expiry and counts one", async () => {
    const { tokens, audited, counted } = keeper({ token: "ghs_new", expiresAt: "2026-11-29T13:00:00.000Z" });
    expect(await tokens.refreshIfDue()).toBe("refreshed");
    expect(audited.map((e) => [e.action, e.target, e.details?.expires_at])).toEqual([
      ["token.refreshed", "acme", "2026-11-29T13:00:00.000Z"],
    ]);
    expect(counted).toEqual(["refreshed"]);
  });
});
