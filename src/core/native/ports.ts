// What watching native GitHub Connect needs from outside core: GHES's enterprise audit log, the
// appliance's own settings (Manage API), and somewhere to keep what was seen. Adapters in github/
// and db/ implement these; app.ts wires them.
import { UserError } from "../errors.js";
import type { NativeEvent } from "./events.js";

export interface NativeAuditLog {
  /** Every entry matching `phrase`, all pages followed; throws NativeAuditRefused when GHES says no. */
  read(options: { enterprise: string; phrase: string }): Promise<NativeEvent[]>;
  /**
   * The enterprise slug GHES_TOKEN's user belongs to (GraphQL `viewer { enterprises }`), when
   * GHES_ENTERPRISE is not set: the slug, or why not (never throws).
   */
  discoverEnterprise?(): Promise<{ slug: string } | { problem: string }>;
}

export interface ApplianceSettings {
  readonly configured: boolean;
  /** GHES's own `http_proxy` (Management Console → Privacy), null when it has none. */
  httpProxy(): Promise<string | null>;
}

/** The events seen so far, kept so `status` never has to ask GHES, and so each is announced once. */
export interface NativeEventStore {
  /** true for the one caller that recorded this event first (across replicas). */
  record(event: NativeEvent): Promise<boolean>;
  all(): Promise<NativeEvent[]>;
  count(): Promise<number>;
  /** The watcher's last look: when it last read GHES, and its problem then, if any. */
  noteLook(look: { at: string; problem: string | null }): Promise<void>;
  lastLook(): Promise<{ at: string; problem: string | null; okAt: string | null } | undefined>;
}

/** GHES would not hand over its audit log: a wrong token scope, a wrong slug. Says what to set. */
export class NativeAuditRefused extends UserError {
  override readonly code = "native_audit_refused";
}

/** A native feature's prerequisite failed when checked live: nothing was posted or changed. */
export class NativePrerequisitesFailed extends UserError {
  override readonly code = "native_prerequisites_failed";
}
