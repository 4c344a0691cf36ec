// `npm run bench`: measured side by side against a bare Bolt app (issue: reliability and scale).
// Until that issue lands it says so instead of printing made-up numbers.
process.stdout.write("bench: not yet — the side-by-side ack latency benchmark lands with the reliability issue.\n");
