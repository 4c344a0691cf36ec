// The load generator, on its own thread: the bench's main thread also plays Slack's and GitHub's
// side (it receives every reply ghconnect posts), and timing acks on that busy event loop would
// charge its work to whichever bot is measured. One undici Pool per bot keeps its connections open
// from one job to the next, as Slack's own senders do: a warm-up job opens them, so the measured
// job times acks, not a hundred TCP handshakes at once.
import { parentPort } from "node:worker_threads";
import { Pool } from "undici";

// Plain JavaScript: a worker thread does not inherit tsx's TypeScript loader. The job and result
// shapes are declared in load-worker.d.mts.

/** @param {import("./load-worker.d.mts").LoadJob} job */
async function run({ origin, requests, concurrency }) {
  const pool = pools.get(origin) ?? new Pool(origin, { pipelining: 1 });
  pools.set(origin, pool);
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

/** @type {Map<string, Pool>} */
const pools = new Map();

parentPort?.on("message", (job) => {
  run(job).then(
    (result) => parentPort?.postMessage(result),
    (error) => parentPort?.postMessage({ latencies: [], failures: 0, error: error.message }),
  );
});
