// GET /metrics in Prometheus format: commands by name and outcome, Slack ack latency, outbound
// HTTP calls (GitHub, GHES, Slack) by host and status, token refreshes, pending approvals and
// operations in flight. One registry per app, so several apps in one process stay apart.
import client from "prom-client";
import { type Route, sendText } from "./http.js";

export class Metrics {
  readonly registry = new client.Registry();
  readonly commands = new client.Counter({
    name: "ghconnect_commands_total",
    help: "Slash commands handled, by subcommand and outcome",
    labelNames: ["command", "outcome"] as const,
    registers: [this.registry],
  });
  readonly ack = new client.Histogram({
    name: "ghconnect_slack_ack_seconds",
    help: "Time from receiving a Slack request to answering it (the ack)",
    labelNames: ["kind"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly outbound = new client.Counter({
    name: "ghconnect_http_requests_total",
    help: "Outbound HTTP requests (GitHub, GHES, Slack), by host and status ('error' when no answer)",
    labelNames: ["host", "status"] as const,
    registers: [this.registry],
  });
  readonly refreshes = new client.Counter({
    name: "ghconnect_token_refreshes_total",
    help: "Installation token refreshes by the periodic job, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  constructor(gauges: { pendingApprovals(): Promise<number>; operationsInFlight(): Promise<number> }) {
    new client.Gauge({
      name: "ghconnect_pending_approvals",
      help: "Disconnect requests waiting for approval",
      registers: [this.registry],
      async collect() {
        this.set(await gauges.pendingApprovals().catch(() => Number.NaN));
      },
    });
    new client.Gauge({
      name: "ghconnect_operations_in_flight",
      help: "Enable or disable operations in flight (0 or 1)",
      registers: [this.registry],
      async collect() {
        this.set(await gauges.operationsInFlight().catch(() => Number.NaN));
      },
    });
  }

  route(): Route {
    return {
      method: "GET",
      path: "/metrics",
      handler: async (_req, res) => sendText(res, 200, await this.registry.metrics(), this.registry.contentType),
    };
  }
}
