// Where GitHub publishes an audit event for a native feature's toggle, the approved card waits for
// it and ends "verified at … (event …)"; an older event is not its proof. GitHub publishes none for
// today's four features (events.ts), so a hypothetical event name is given here to exercise the path.

import { afterEach, describe, expect, it, vi } from "vitest";
import { TRUSTED_SOURCE } from "../../src/core/authorize.js";
import type { Message } from "../../src/core/message.js";
import { type GovernedDeps, GovernedFeatures } from "../../src/core/native/governed.js";
import type { GhesGateway, Notifier } from "../../src/core/ports.js";
import { AuditRepo } from "../../src/db/audit-repo.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES, type TestDb } from "../helpers/db.js";

const text = (m: Message) => m.blocks.map((b) => ("text" in b ? b.text : "")).join("\n");

/**
 * Governed native features on a migrated test database at 2026-11-29 14:00 UTC: U1 (GHES alice) a
 * trusted admin, GHES a site admin's and GitHub Connect on; `cards` keeps every card posted or
 * updated, oldest first; `advance` moves the clock on.
 */
async function governedOn(t: TestDb, featureEvents?: GovernedDeps["featureEvents"]) {
  await migrateToLatest(t.db);
  let now = new Date("2026-11-29T14:00:00Z");
  const clock = () => now;
  const store = new Store(t.db, clock, new NoKeyBox());
  // Trusted configuration (GHCONNECT_ADMINS): an entry added by command would be pending until proven.
  await store.admins.upsert("U1", "alice", TRUSTED_SOURCE);
  const cards: Message[] = [];
  const notifier = {
    adminChannel: "C1",
    post: async (_c: string, m: Message) => {
      cards.push(m);
      return { channel: "C1", ts: "1.0" };
    },
    update: async (_card: unknown, m: Message) => {
      cards.push(m);
      return true;
    },
  } as unknown as Notifier;
  const ghes = {
    url: "https://ghes.example.com",
    version: async () => "3.19.2",
    user: async () => ({ exists: true, siteAdmin: true }),
  } as unknown as GhesGateway;
  const governed = new GovernedFeatures({
    store,
    ghes,
    notifier,
    clock,
    policy: "self",
    ttlMs: 15 * 60_000,
    settingsUrl: "https://ghes.example.com/enterprises/example/settings/dotcom_connection",
    nativeState: async () => ({ connected: true, account: "acme", since: "2026-11-01T00:00:00.000Z", by: "alice" }),
    actionsEnabled: async () => ({ ok: true, detail: "on" }),
    featureEvents,
  });
  return { store, governed, cards, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe.each(ENGINES)("a native feature change proven by its audit event (%s)", (engine) => {
  it("waits for the event after approval, ignores one from before the request, and ends verified with the event's time and id", async () => {
    const t = await createTestDb(engine);
    try {
      const { store, governed, cards, advance } = await governedOn(t, {
        "license-sync": { enable: "hypothetical.license_sync_enable", disable: null },
      });
      await governed.request("enable", "license-sync", "U1");
      const id = (await t.db.kysely
        .selectFrom("native_requests" as never)
        .select("id" as never)
        .executeTakeFirst()) as { id: string };
      await governed.approve(id.id, "U1");
      expect(text(cards.at(-1) as Message)).toContain("Waiting for GHES's audit event `hypothetical.license_sync_enable`");
      const event = { action: "hypothetical.license_sync_enable", actor: "alice" };
      expect(await governed.takeEvent({ ...event, id: "old", at: "2026-11-29T13:00:00.000Z" })).toBe(false);
      advance(5 * 60_000 + 30_000); // 14:05:30, half a minute after the event below
      expect(await governed.takeEvent({ ...event, id: "doc-1", at: "2026-11-29T14:05:00.000Z" })).toBe(true);
      expect(text(cards.at(-1) as Message)).toContain(
        "✅ Verified at 2026-11-29 14:05 UTC (event `hypothetical.license_sync_enable` doc-1).",
      );
      const entry = (await store.audit.latest(10)).find((e) => e.action === "feature.enabled");
      expect(entry?.details).toMatchObject({ native: true, proof: "audit_event", event_id: "doc-1" });
      expect(await store.features.isEnabled("license-sync")).toBe(true);
    } finally {
      await t.cleanup();
    }
  });
});

// A state change and its audit entry are one transaction: an audit write that fails (injected
// here in the audit repository every transaction uses) leaves the request where it was, and a
// move that fails leaves no entry.
describe.each(ENGINES)("a native feature request moves together with its audit entry (%s)", (engine) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function setup() {
    const t = await createTestDb(engine);
    const { store, governed, advance } = await governedOn(t);
    /** The audit write of `action` fails (once), as a full disk or a dropped connection would. */
    const failAuditOf = (action: string) => {
      const real = AuditRepo.prototype.appendMany;
      vi.spyOn(AuditRepo.prototype, "appendMany").mockImplementationOnce(async function (this: AuditRepo, inputs) {
        if (inputs.some((i) => i.action === action)) throw new Error(`injected: the audit write of ${action} failed`);
        return real.call(this, inputs);
      });
    };
    const rows = async () =>
      (await t.db.kysely
        .selectFrom("native_requests" as never)
        .select(["id", "status"] as never)
        .execute()) as Array<{ id: string; status: string }>;
    const actions = async () => (await store.audit.latest(50)).map((e) => e.action).filter((a) => a.startsWith("native_feature."));
    return { t, store, governed, failAuditOf, rows, actions, advance };
  }

  it("the request is not created when its audit entry cannot be written", async () => {
    const w = await setup();
    try {
      w.failAuditOf("native_feature.requested");
      await expect(w.governed.request("enable", "license-sync", "U1")).rejects.toThrow(
        "injected: the audit write of native_feature.requested failed",
      );
      expect(await w.rows()).toEqual([]);
      expect(await w.actions()).toEqual([]);
    } finally {
      await w.t.cleanup();
    }
  });

  it("approve, cancel and expiry leave the request unmoved when their audit entry cannot be written; retried, each moves it with its entry", async () => {
    const w = await setup();
    try {
      await w.governed.request("enable", "license-sync", "U1");
      const [{ id } = { id: "" }] = await w.rows();

      w.failAuditOf("native_feature.approved");
      await expect(w.governed.approve(id, "U1")).rejects.toThrow("injected: the audit write of native_feature.approved failed");
      expect(await w.rows()).toEqual([{ id, status: "pending" }]);

      w.failAuditOf("native_feature.cancelled");
      await expect(w.governed.cancel(id, "U1")).rejects.toThrow("injected: the audit write of native_feature.cancelled failed");
      expect(await w.rows()).toEqual([{ id, status: "pending" }]);

      w.advance(16 * 60_000);
      w.failAuditOf("native_feature.expired");
      await expect(w.governed.expireStale()).rejects.toThrow("injected: the audit write of native_feature.expired failed");
      expect(await w.rows()).toEqual([{ id, status: "pending" }]);
      expect(await w.actions()).toEqual(["native_feature.requested"]);

      // Nothing injected: the sweep moves it and audits it, together.
      expect(await w.governed.expireStale()).toBe(1);
      expect(await w.rows()).toEqual([{ id, status: "expired" }]);
      expect(await w.actions()).toEqual(["native_feature.expired", "native_feature.requested"]);
    } finally {
      await w.t.cleanup();
    }
  });

  it("a Cancel that loses to an Approve made while it was clicked tells the clicker who approved it, and cancels nothing", async () => {
    const w = await setup();
    try {
      await w.governed.request("enable", "license-sync", "U1");
      const [{ id } = { id: "" }] = await w.rows();
      // The Approve lands after Cancel read the request as pending and before Cancel moves it.
      const read = w.store.nativeRequests.get.bind(w.store.nativeRequests);
      vi.spyOn(w.store.nativeRequests, "get").mockImplementationOnce(async (requestId) => {
        const pending = await read(requestId);
        await w.governed.approve(requestId, "U1");
        return pending;
      });
      const reply = await w.governed.cancel(id, "U1");
      expect(text(reply)).toContain("This change was already approved by <@U1> at 2026-11-29 14:00 UTC.");
      expect(await w.rows()).toEqual([{ id, status: "awaiting" }]);
      expect(await w.actions()).not.toContain("native_feature.cancelled");
    } finally {
      await w.t.cleanup();
    }
  });

  it("a confirmation is not recorded (request, feature, entry) when its audit entry cannot be written", async () => {
    const w = await setup();
    try {
      await w.governed.request("enable", "license-sync", "U1");
      const [{ id } = { id: "" }] = await w.rows();
      await w.governed.approve(id, "U1");
      w.failAuditOf("feature.enabled");
      await expect(w.governed.confirm(id, "U1")).rejects.toThrow("injected: the audit write of feature.enabled failed");
      expect(await w.rows()).toEqual([{ id, status: "awaiting" }]);
      expect(await w.store.features.isEnabled("license-sync")).toBe(false);
      await w.governed.confirm(id, "U1");
      expect(await w.rows()).toEqual([{ id, status: "confirmed" }]);
      expect(await w.store.features.isEnabled("license-sync")).toBe(true);
    } finally {
      await w.t.cleanup();
    }
  });
});
