export interface LoadJob {
  origin: string;
  requests: Array<{ headers: Record<string, string>; body: string }>;
  concurrency: number;
}

export interface LoadResult {
  /** Each request's latency in ms, in completion order. */
  latencies: number[];
  /** Requests answered with anything but HTTP 200. */
  failures: number;
  error?: string;
}
