// GHES_ENTERPRISE, the enterprise slug the native-Connect watcher reads the audit log of: a
// malformed one stops start-up with one line saying what it should look like.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { testEnv } from "./helpers/bot.js";

describe("GHES_ENTERPRISE", () => {
  it("a slug with a space or a slash is refused, naming the variable and the shape it should have", () => {
    for (const value of ["acme corp", "enterprises/acme", "-acme"]) {
      let error: unknown;
      try {
        loadConfig(testEnv({ GHES_ENTERPRISE: value }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe("GHES_ENTERPRISE");
      expect((error as Error).message).toContain("should be the enterprise slug as in https://GHES/enterprises/SLUG");
    }
  });

  it("is optional, and a set slug is kept as given", () => {
    expect(loadConfig(testEnv()).GHES_ENTERPRISE).toBeUndefined();
    expect(loadConfig(testEnv({ GHES_ENTERPRISE: "acme-corp" })).GHES_ENTERPRISE).toBe("acme-corp");
  });
});
