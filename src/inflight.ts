// Work that continues after Slack got its ack. It runs at most `limit` at a time (the rest wait
// their turn), so a burst of commands cannot starve the acks of new ones; on SIGTERM the bot
// stops accepting, then waits (up to a limit) for this work to finish before closing the database.
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

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
    const task = this.slot().then(async () => {
      try {
        return await work();
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
    });
    this.running.add(task);
    void task.finally(() => this.running.delete(task)).catch(() => {});
    return task;
  }

  private slot(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.active++;
        resolve();
      });
    });
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when everything has settled, or after `timeoutMs`; true if all settled. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = (async () => {
      while (this.running.size) await Promise.allSettled([...this.running]);
      return true as const;
    })();
    const result = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return result;
  }
}
