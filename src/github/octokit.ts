// One Octokit class for every GitHub we talk to (GHES, its Manage API, api.github.com): retries
// 5xx with backoff, honours 429/secondary rate limits within a small budget, goes through our
// proxied fetch, and logs nothing secret.
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type BottleneckTypes from "bottleneck";
// biome-ignore lint/suspicious/noTsIgnore: bottleneck ships types for its main entry only; light.js has the same API.
// @ts-ignore
import BottleneckLight from "bottleneck/light.js";

const Bottleneck = BottleneckLight as typeof BottleneckTypes;

import type { FetchLike } from "./transport.js";

export const GhOctokit = Octokit.plugin(retry, throttling);
export type GhOctokitInstance = InstanceType<typeof GhOctokit>;

/** Longest retry-after we wait for inside one command; longer ones are reported instead. */
export const MAX_RETRY_AFTER_SECONDS = 5;

// Octokit's defaults pace writes 1 s and searches 2 s apart for a whole process; ghconnect makes
// a handful of each per operation, so a lighter pace keeps flows fast without hammering GitHub.
const groups = {
  write: new Bottleneck.Group({ maxConcurrent: 2, minTime: 50 }),
  search: new Bottleneck.Group({ maxConcurrent: 4, minTime: 100 }),
};

export interface OctokitOptions {
  baseUrl: string;
  fetch: FetchLike;
  auth?: unknown;
  authStrategy?: unknown;
  retryBaseMs?: number;
}

/** Octokit's default log writes failed requests to the console; callers turn failures into sentences. */
export const SILENT_LOG = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export function createOctokit(options: OctokitOptions): GhOctokitInstance {
  const Configured = configuredOctokit(options);
  return new Configured({
    ...(options.authStrategy ? { authStrategy: options.authStrategy as never } : {}),
    ...(options.auth !== undefined ? { auth: options.auth as never } : {}),
  });
}

/**
 * The Octokit class with everything but authentication set (base URL, proxied fetch, retries,
 * throttling, silence): what @octokit/app's `App` is given as its `Octokit`, so the app's JWT
 * requests and installation token minting go the same way as every other call.
 */
export function configuredOctokit(options: Omit<OctokitOptions, "auth" | "authStrategy"> & { retries?: number }): typeof GhOctokit {
  return GhOctokit.defaults({
    baseUrl: options.baseUrl,
    userAgent: "ghconnect",
    request: { fetch: options.fetch },
    // The number of retries goes here, not in `request`: plugin-retry retries any failure whose
    // request carries `retries`, so set there it retried 404s and 422s too (doNotRetry unheeded).
    retry: {
      retries: options.retries ?? 2,
      retryAfterBaseValue: options.retryBaseMs ?? 250,
      doNotRetry: [400, 401, 403, 404, 410, 422, 451],
    },
    throttle: {
      ...groups,
      retryAfterBaseValue: 1000,
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter <= MAX_RETRY_AFTER_SECONDS,
      onSecondaryRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        retryCount < 1 && retryAfter <= MAX_RETRY_AFTER_SECONDS,
    },
    log: SILENT_LOG,
  });
}
