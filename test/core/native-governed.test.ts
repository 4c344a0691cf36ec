// Where GitHub publishes an audit event for a native feature's toggle, the approved card waits for
// it and ends "verified at … (event …)"; an older event is not its proof. GitHub publishes none for
// today's four features (events.ts), so a hypothetical event name is given here to exercise the path.

import { describe, expect, it } from "vitest";
import { TRUSTED_SOURCE } from "../../src/core/authorize.js";
import type { Message } from "../../src/core/message.js";
import { GovernedFeatures } from "../../src/core/native/governed.js";
import type { GhesGateway, Notifier } from "../../src/core/ports.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { NativeRequestsRepo } from "../../src/db/native-requests-repo.js";
import { NoKeyBox } from "../../src/db/secret-box.js";
import { Store } from "../../src/db/store.js";
import { createTestDb, ENGINES } from "../helpers/db.js";

const text = (m: Message) => m.blocks.map((b) => ("text" in b ? b.text : "")).join("\n");

describe.each(ENGINES)("a native feature change proven by its audit event (%s)", (engine) => {
  it("waits for the event after approval, ignores one from before the request, and ends verified with the event's time and id", async () => {
    const t = await createTestDb(engine);
    try {
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
        requests: new NativeRequestsRepo(t.db.kysely, clock),
        ghes,
        notifier,
        clock,
        policy: "self",
        ttlMs: 15 * 60_000,
        settingsUrl: "https://ghes.example.com/enterprises/example/settings/dotcom_connection",
        nativeState: async () => ({ connected: true, account: "acme", since: "2026-11-01T00:00:00.000Z", by: "alice" }),
        actionsEnabled: async () => ({ ok: true, detail: "on" }),
        featureEvents: { "license-sync": { enable: "hypothetical.license_sync_enable", disable: null } },
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
      now = new Date("2026-11-29T14:05:30Z");
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
