// GET /healthz: 200 {status: "ok"} when the database answers and Slack can be used (the bot
// token works and, in Socket Mode, the socket is connected); otherwise 503 {status: "degraded"}
// with the failing check named, so a load balancer or an orchestrator takes the replica out. It
// comes back on its own: the database is pinged on every request, Slack is re-checked on the
// app's schedule and the socket reconnects by itself.
import type { DatabaseHealth, SlackHealth } from "../core/ports.js";
import { type Route, sendJson } from "./http.js";

export interface HealthDeps {
  db: DatabaseHealth;
  mode: "http" | "socket";
  slack: () => SlackHealth;
}

export function healthRoute({ db, mode, slack }: HealthDeps): Route {
  return {
    method: "GET",
    path: "/healthz",
    handler: async (_req, res) => {
      const database = (await db.ping()) ? "ok" : "unreachable";
      const s = slack();
      const ok = database === "ok" && s.status === "ok";
      sendJson(res, ok ? 200 : 503, {
        status: ok ? "ok" : "degraded",
        checks: {
          database: { status: database, engine: db.engine },
          slack: { status: s.status, mode, detail: s.detail, since: s.since },
        },
      });
    },
  };
}
