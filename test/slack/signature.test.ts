// Slack's v0 signature as the gate checks it, against the signature Slack's algorithm produces
// (the sandbox driver signs exactly as Slack documents it).
import { describe, expect, it } from "vitest";
import { signSlackRequest } from "../../src/sandbox/slack/driver.js";
import { signatureMatches } from "../../src/slack/request-guard.js";

describe("signatureMatches", () => {
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const body = "token=x&team_id=T1&command=%2Fghconnect&text=status";
  const ts = 1_764_064_800;
  const good = signSlackRequest(secret, ts, body);

  it("accepts Slack's signature of this body at this timestamp", () => {
    expect(signatureMatches(secret, String(ts), body, good)).toBe(true);
  });

  it("refuses a changed body, timestamp, secret or signature — and one of another length", () => {
    expect(signatureMatches(secret, String(ts), `${body}&x=1`, good)).toBe(false);
    expect(signatureMatches(secret, String(ts + 1), body, good)).toBe(false);
    expect(signatureMatches(`${secret}0`, String(ts), body, good)).toBe(false);
    const flipped = `${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`;
    expect(signatureMatches(secret, String(ts), body, flipped)).toBe(false);
    expect(signatureMatches(secret, String(ts), body, good.slice(0, -2))).toBe(false);
    expect(signatureMatches(secret, String(ts), body, "")).toBe(false);
  });
});
