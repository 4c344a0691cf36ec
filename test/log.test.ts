// What an operator's log shows: secrets censored wherever they sit, arrays included.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger("info", sink), lines };
}

describe("log redaction", () => {
  it("censors secret fields inside arrays of objects, at any depth, and masks tokens in array strings", () => {
    const { log, lines } = capture();
    const token = "ghs_abcdefghijklmnopqrstuvwxyz0123456789";
    log.info(
      { items: [{ token, org: "acme" }], nested: { apps: [{ creds: [{ client_secret: "s3cr3t-value", id: 7 }] }] }, hosts: [token] },
      "listing apps",
    );
    const written = lines.join("");
    expect(written).not.toContain(token);
    expect(written).not.toContain("s3cr3t-value");
    expect(JSON.parse(written)).toMatchObject({
      items: [{ token: "[redacted]", org: "acme" }],
      nested: { apps: [{ creds: [{ client_secret: "[redacted]", id: 7 }] }] },
      hosts: ["[redacted]"],
      msg: "listing apps",
    });
  });

  it("leaves errors to pino's serializer and fields without secrets as they are", () => {
    const { log, lines } = capture();
    log.error({ err: new Error("boom"), org: "acme", counts: [1, 2] }, "failed");
    expect(JSON.parse(lines.join(""))).toMatchObject({ err: { message: "boom", type: "Error" }, org: "acme", counts: [1, 2] });
  });
});
