// The load generator, on its own thread: the bench's main thread also plays Slack's and GitHub's
// side (it receives every reply ghconnect posts), and timing acks on that busy event loop would
// charge its work to whichever bot is measured. One undici Pool per bot keeps its connections open
// from one job to the next, as Slack's own senders do: a warm-up job opens them, so the measured
// job times acks, not a hundred TCP handshakes at once.
import { createHmac, randomBytes } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { Pool } from "undici";

// Plain JavaScript: a worker thread does not inherit tsx's TypeScript loader. The job and result
// shapes are declared in load-worker.d.mts.

/** @param {string} origin */
function poolFor(origin) {
  const pool = pools.get(origin) ?? new Pool(origin, { pipelining: 1 });
  pools.set(origin, pool);
  return pool;
}

/** @param {import("./load-worker.d.mts").LoadJob} job */
async function run({ origin, requests, concurrency }) {
  const pool = poolFor(origin);
  const latencies = [];
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      const started = performance.now();
      const response = await pool.request({ path: "/slack/events", method: "POST", headers: request.headers, body: request.body });
      await response.body.text();
      latencies.push(performance.now() - started);
      if (response.statusCode !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, failures };
}

/**
 * Closed loop: each of `concurrency` senders sends its next command when the answer to its last
 * one arrives, for `seconds`. Every command is a new delivery (its own trigger_id, signed anew, as
 * Slack signs each) from one of `users` people. Answers are sorted by kind: real (HTTP 200 and,
 * when `busyText` is given, not that text), busy (that text) or error (anything but HTTP 200).
 * @param {import("./load-worker.d.mts").SustainedJob} job
 */
async function sustained({ origin, template, signingSecret, users, concurrency, seconds, busyText }) {
  const pool = poolFor(origin);
  const form = new URLSearchParams(template);
  const latencies = [];
  const kinds = { real: 0, busy: 0, error: 0 };
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  const sender = async () => {
    while (performance.now() < end) {
      form.set("user_id", users[sent % users.length]);
      form.set("trigger_id", `${Date.now()}.${sent++}.${randomBytes(4).toString("hex")}`);
      const body = form.toString();
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signature,
      };
      const started = performance.now();
      try {
        const response = await pool.request({ path: "/slack/events", method: "POST", headers, body });
        const text = await response.body.text();
        latencies.push(performance.now() - started);
        if (response.statusCode !== 200) kinds.error++;
        else if (busyText && text.includes(busyText)) kinds.busy++;
        else kinds.real++;
      } catch {
        latencies.push(performance.now() - started);
        kinds.error++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, sender));
  return { latencies, failures: kinds.error, kinds, elapsedMs: performance.now() - started };
}

/** @type {Map<string, Pool>} */
const pools = new Map();

parentPort?.on("message", (job) => {
  (job.seconds ? sustained(job) : run(job)).then(
    (result) => parentPort?.postMessage(result),
    (error) => parentPort?.postMessage({ latencies: [], failures: 0, error: error.message }),
  );
});
