// GET /healthz: 200 when the database answers, 503 when it does not (load balancers take the
// replica out of rotation; it comes back on its own when the database does).
import type { Db } from "../db/database.js";
import { pingDatabase } from "../db/database.js";
import { type Route, sendJson } from "./http.js";

export function healthRoute(db: Db, mode: "http" | "socket"): Route {
  return {
    method: "GET",
    path: "/healthz",
    handler: async (_req, res) => {
      const ok = await pingDatabase(db);
      sendJson(res, ok ? 200 : 503, {
        status: ok ? "ok" : "unavailable",
        database: ok ? "ok" : "unreachable",
        engine: db.engine,
        slack: mode,
      });
    },
  };
}
