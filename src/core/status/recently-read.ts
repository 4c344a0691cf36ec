// What `status` reads from the database, kept for a moment. A burst of `status` (a team all
// looking at once, or a script) then costs one set of reads, and the answer can go out in Slack's
// ack without waiting on the database. A change made by this replica forgets it at once (see
// app.ts); a change made by another replica shows within `ttlMs` (within `maxStaleMs` while the
// database is slow to answer), as if the command had been typed that much earlier.
import type { Clock } from "../clock.js";

interface Read<T> {
  /** When the read started: the value is at least this fresh. */
  at: number;
  value: Promise<T>;
}

export class RecentlyRead<T> {
  private cached?: Read<T>;
  private refreshing?: Read<T>;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly clock: Clock,
    readonly ttlMs = 1000,
    readonly maxStaleMs = 5 * ttlMs,
  ) {}

  /**
   * The value read less than ttlMs ago, or a new read (shared by everyone asking meanwhile).
   * Past half its life the value is read again in the background while the cached one is still
   * served, so under steady use nobody waits for the database (on SQLite a read would queue
   * behind whatever is being written).
   */
  get(): Promise<T> {
    const now = this.clock().getTime();
    const fresh = (r: Read<T> | undefined): r is Read<T> => !!r && now >= r.at && now - r.at < this.ttlMs;
    const c = this.cached;
    if (fresh(c)) {
      if (now - c.at >= this.ttlMs / 2 && !this.refreshing) this.refreshing = this.start(now);
      return c.value;
    }
    // Expired while the refresh it started is still waiting for the database (under a burst a
    // read queues behind the writes): the cached value is served meanwhile, up to maxStaleMs, so
    // the acks of the burst do not wait on it.
    const stale = this.cached;
    if (stale && this.refreshing && now >= stale.at && now - stale.at < this.maxStaleMs) return stale.value;
    // Expired (or a clock that went backwards, as the sandbox's can): the refresh under way, if
    // it is recent enough, or a new read.
    if (fresh(this.refreshing)) return this.refreshing.value;
    this.refreshing = this.start(now);
    return this.refreshing.value;
  }

  forget(): void {
    this.cached = undefined;
    this.refreshing = undefined;
  }

  private start(at: number): Read<T> {
    const entry: Read<T> = { at, value: this.read() };
    entry.value.then(
      () => {
        if (this.refreshing !== entry) return; // forgotten meanwhile
        this.refreshing = undefined;
        if (!this.cached || this.cached.at < entry.at) this.cached = entry;
      },
      () => {
        // A failed read is not kept: the next caller tries again.
        if (this.refreshing === entry) this.refreshing = undefined;
      },
    );
    return entry;
  }
}
