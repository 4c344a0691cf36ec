// Work that continues after Slack got its ack. It runs at most `limit` at a time (the rest wait
// their turn), so a burst of commands cannot starve the acks of new ones; on SIGTERM the bot
// stops accepting, then waits (up to a limit) for this work to finish before closing the database.
export class InFlight {
  /** Work started or waiting, not yet settled. */
  private pending = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly limit = 4,
    /** Beyond this many waiting, new work is refused (the caller says "busy") instead of queued. */
    readonly maxWaiting = 200,
  ) {}

  /** true when every slot is taken and the queue is full: refuse new work rather than let memory grow without bound. */
  get saturated(): boolean {
    return this.active >= this.limit && this.waiting.length >= this.maxWaiting;
  }

  /** Runs `work` when a slot is free; resolves with its result. */
  run<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    // A free slot starts the work at once (no promise hop: recording runs thousands a second).
    let task: Promise<T>;
    if (this.active < this.limit) {
      this.active++;
      task = this.execute(work);
    } else {
      task = this.queue().then(() => this.execute(work));
    }
    task.then(this.settled, this.settled);
    return task;
  }

  private async execute<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private readonly settled = () => {
    if (--this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
  };

  private queue(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active++;
        resolve();
      });
    });
  }

  get size(): number {
    return this.pending;
  }

  /** Resolves when everything has settled, or after `timeoutMs`; true if all settled. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = this.pending === 0 ? Promise.resolve(true as const) : new Promise<true>((resolve) => this.idle.push(() => resolve(true)));
    const result = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return result;
  }
}

/**
 * At most `limit` pieces of work per key (a Slack user) queued or running at once, so one person
 * cannot fill the shared queue and lock everyone else out. Counts only; InFlight does the waiting.
 */
export class PerKeyLimit {
  private readonly counts = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Takes a place for `key`: a release function, or undefined when `key` already has `limit`. */
  take(key: string): (() => void) | undefined {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.limit) return undefined;
    this.counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      // Forgotten at zero: the map holds only people with work in flight (memory stays flat).
      if (left === 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }
}
