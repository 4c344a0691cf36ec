export interface LoadJob {
  origin: string;
  requests: Array<{ headers: Record<string, string>; body: string }>;
  concurrency: number;
}

export interface SustainedJob {
  origin: string;
  /** A signed command's form body: each command sent is this with its own user_id and trigger_id. */
  template: string;
  signingSecret: string;
  /** The Slack user ids the commands come from, in turn. */
  users: string[];
  concurrency: number;
  seconds: number;
  /** An answer containing this is counted "busy" (ghconnect's shed-load reply). */
  busyText?: string;
}

export interface LoadResult {
  /** Each request's latency in ms, in completion order. */
  latencies: number[];
  /** Requests answered with anything but HTTP 200. */
  failures: number;
  /** Sustained jobs: answers by kind. */
  kinds?: { real: number; busy: number; error: number };
  /** Sustained jobs: how long the run took, ms. */
  elapsedMs?: number;
  error?: string;
}
