// Group commit: writes that arrive while one transaction is running wait for it and then go
// together in the next one. Under a burst of commands, a hundred audit entries cost one
// transaction instead of a hundred (and on SQLite, one write lock instead of a queue of them);
// alone, a write goes at once. Each caller still gets its own result or error.
import { DatabaseUnavailable } from "../core/errors.js";

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  private readonly waiting: Array<Waiting<I, O>> = [];
  private running = false;

  constructor(
    /** Writes the items in one transaction; returns one result per item, in order. */
    private readonly write: (items: I[]) => Promise<O[]>,
    /**
     * Big enough that sustained load costs few transactions (on PostgreSQL each is several round
     * trips); small enough that hashing and binding one batch is a short synchronous step that
     * acks wait behind. Asked before each batch: the writer may change (store.ts).
     */
    private readonly maxBatch: () => number = () => 200,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length) await this.commit(this.waiting.splice(0, this.maxBatch()));
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(results[i] as O);
    } catch (error) {
      // A database that is down fails everyone alike; anything else may be one bad item, which
      // must not take the others with it: write them one at a time.
      if (batch.length === 1 || error instanceof DatabaseUnavailable) {
        for (const w of batch) w.reject(error);
        return;
      }
      for (const w of batch) await this.commit([w]);
    }
  }
}
