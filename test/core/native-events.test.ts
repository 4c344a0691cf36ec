// GHES's audit-log entries of native GitHub Connect, read as the bot reads them. The shapes are
// GHES's own (its instrumented payload: `dotcom_connection: true`, actor, actor_id; the audit-log
// API adds `_document_id`, `created_at`, `@timestamp`, `business`), see connectedAccount.
import { describe, expect, it } from "vitest";
import { toNativeEvent } from "../../src/core/native/events.js";

const base = {
  _document_id: "doc-1",
  "@timestamp": Date.parse("2026-11-29T14:00:00Z"),
  created_at: Date.parse("2026-11-29T14:00:00Z"),
  action: "dotcom_connection.create",
  actor: "alice",
  actor_id: 5,
  business: "example-ghes-enterprise",
  dotcom_connection: true,
};

describe("reading a dotcom_connection.create entry", () => {
  it("GHES's own payload names no account: the event is read, its account unknown (never GHES's own business)", () => {
    expect(toNativeEvent(base)).toEqual({
      id: "doc-1",
      action: "dotcom_connection.create",
      actor: "alice",
      at: "2026-11-29T14:00:00.000Z",
    });
  });

  it("an account is taken from the candidate fields, at the top level or under data, first found wins", () => {
    expect(toNativeEvent({ ...base, owner_identifier: "acme" })?.account).toBe("acme");
    expect(toNativeEvent({ ...base, data: { owner_identifier: "acme-corp" } })?.account).toBe("acme-corp");
    expect(toNativeEvent({ ...base, data: { dotcom_account: "acme" } })?.account).toBe("acme");
    expect(toNativeEvent({ ...base, dotcom_account: "first", data: { dotcom_account: "second" } })?.account).toBe("first");
  });

  it("a value that is not an account name is not taken; other actions carry no account", () => {
    expect(toNativeEvent({ ...base, owner_identifier: { id: 1 } })?.account).toBeUndefined();
    expect(toNativeEvent({ ...base, owner_identifier: "<script>" })?.account).toBeUndefined();
    expect(toNativeEvent({ ...base, action: "dotcom_connection.destroy", owner_identifier: "acme" })?.account).toBeUndefined();
  });
});
