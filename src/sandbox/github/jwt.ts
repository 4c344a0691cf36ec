// GitHub App JWT verification as GitHub does it: RS256 against the app's public key, `iss` the
// app id (or client id), `exp` in the future and at most 10 minutes ahead, `iat` not in the future.
import { createVerify } from "node:crypto";
import type { AppRecord, GitHubWorld } from "./world.js";

export type JwtResult = { ok: true; app: AppRecord } | { ok: false; message: string };

function b64json(part: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function verifyAppJwt(world: GitHubWorld, authorization: string | undefined): JwtResult {
  const token = authorization?.replace(/^Bearer\s+/i, "");
  if (!token) return { ok: false, message: "A JSON web token could not be decoded" };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, message: "A JSON web token could not be decoded" };
  const [h = "", p = "", s = ""] = parts;
  const header = b64json(h);
  const payload = b64json(p);
  if (!header || !payload) return { ok: false, message: "A JSON web token could not be decoded" };
  if (header.alg !== "RS256") return { ok: false, message: "A JSON web token could not be decoded" };
  const iss = String(payload.iss ?? "");
  const app = world.apps.find((a) => String(a.id) === iss || a.clientId === iss);
  if (!app) return { ok: false, message: "Integration not found" };
  const verifier = createVerify("RSA-SHA256");
  verifier.update(`${h}.${p}`);
  if (!verifier.verify(app.publicKeyPem, Buffer.from(s, "base64url")))
    return { ok: false, message: "A JSON web token could not be decoded" };
  const now = Math.floor(world.now() / 1000);
  const exp = Number(payload.exp);
  const iat = Number(payload.iat);
  if (!Number.isInteger(iat) || iat > now + 60)
    return { ok: false, message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued." };
  if (!Number.isInteger(exp) || exp <= now)
    return {
      ok: false,
      message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    };
  if (exp > now + 600 + 30) return { ok: false, message: "'Expiration time' claim ('exp') is too far in the future." };
  if (app.deleted) return { ok: false, message: "Integration not found" };
  return { ok: true, app };
}
