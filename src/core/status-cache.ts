// What `status` reads from the database, kept for a moment. A burst of `status` (a team all
// looking at once, or a script) then costs one set of reads, and the answer can go out in Slack's
// ack without waiting on the database. A change made by this replica forgets it at once (see
// app.ts); a change made by another replica shows within `ttlMs`, as if the command had been
// typed that much earlier.
import type { Clock } from "./clock.js";

export class RecentlyRead<T> {
  private cached?: { at: number; value: Promise<T> };

  constructor(
    private readonly read: () => Promise<T>,
    private readonly clock: Clock,
    readonly ttlMs = 1000,
  ) {}

  /** The value read less than ttlMs ago, or a new read (shared by everyone asking meanwhile). */
  get(): Promise<T> {
    const now = this.clock().getTime();
    const c = this.cached;
    // A clock that went backwards (the sandbox's can) also makes the value stale.
    if (c && now >= c.at && now - c.at < this.ttlMs) return c.value;
    const value = this.read();
    const entry = { at: now, value };
    this.cached = entry;
    // A failed read is not kept: the next caller tries again.
    value.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return value;
  }

  forget(): void {
    this.cached = undefined;
  }
}
