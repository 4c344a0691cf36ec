// The periodic duties of the running app (expiries, crash recovery, pruning), run one after the
// other every interval by every replica. A duty's failure is logged and never stops the others or
// the process; a slow round is never overlapped by the next; close() waits for the round in
// progress so the database is not closed under it. Duties must be safe to run on several replicas
// at once: their transitions are conditional, or they claim their period (JobsRepo.claim).
import type { Logger } from "pino";

export interface Duty {
  /** For the log line when it fails. */
  name: string;
  run(): Promise<unknown>;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(
    private readonly duties: Duty[],
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  /** Runs a round now (recovery right after a restart), then every interval. */
  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.everyMs);
    this.timer.unref();
  }

  /** One round of every duty; resolves when it ends (a round already running is joined, not doubled). */
  sweep(): Promise<void> {
    this.round ??= (async () => {
      for (const duty of this.duties) {
        try {
          await duty.run();
        } catch (error) {
          this.log.warn({ err: error, duty: duty.name }, "a periodic duty failed; it runs again next interval");
        }
      }
    })().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }
}
