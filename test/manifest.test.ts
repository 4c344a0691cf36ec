// manifest.yml, checked against the Slack manifest rules ghconnect relies on: one slash command,
// interactivity on the same URL, and exactly the bot scopes the code's Web API calls need.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// Slack's scope for each Web API method ghconnect may call (from Slack's method reference).
// Reading a channel's history takes the scope of its kind: the admin channel may be public or private.
const SCOPE_OF: Record<string, string[]> = {
  "chat.postMessage": ["chat:write"],
  "chat.update": ["chat:write"],
  "chat.postEphemeral": ["chat:write"],
  "auth.test": [],
  "conversations.info": ["channels:read"],
  "conversations.history": ["channels:history", "groups:history"],
  "conversations.replies": ["channels:history", "groups:history"],
  "users.info": ["users:read"],
  "views.open": [],
};

function appSources(dir = "src"): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return p.endsWith("sandbox") ? [] : appSources(p);
    return p.endsWith(".ts") ? [readFileSync(p, "utf8")] : [];
  });
}

describe("manifest.yml", () => {
  const manifest = parse(readFileSync("manifest.yml", "utf8"));

  it("declares /ghconnect with escaping, and interactivity on the same request URL", () => {
    const [command, ...others] = manifest.features.slash_commands;
    expect(others).toEqual([]);
    expect(command).toMatchObject({ command: "/ghconnect", should_escape: true });
    expect(command.url).toMatch(/\/slack\/events$/);
    expect(command.description.length).toBeLessThanOrEqual(2000);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true, request_url: command.url });
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    // The bot's direct messages to a person land in the app's Messages tab, which must be shown.
    expect(manifest.features.app_home).toEqual({
      home_tab_enabled: false,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: true,
    });
    expect(typeof manifest.settings.socket_mode_enabled).toBe("boolean");
  });

  it("asks for exactly the scopes the code uses: commands, plus those of the Web API methods it calls", () => {
    const code = appSources().join("\n");
    const called = Object.keys(SCOPE_OF).filter((method) => {
      const [family, name] = method.split(".") as [string, string];
      return new RegExp(`\\.${family}\\.${name}\\(`).test(code);
    });
    expect(called).toEqual(expect.arrayContaining(["chat.postMessage", "chat.update", "auth.test", "conversations.history"]));
    const needed = new Set(["commands", ...called.flatMap((m) => SCOPE_OF[m] ?? [])]);
    expect(new Set(manifest.oauth_config.scopes.bot)).toEqual(needed);
  });
});
