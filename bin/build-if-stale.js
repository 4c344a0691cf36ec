#!/usr/bin/env node
// `npm start`'s prestart: compiles to dist/ only when a source is newer than the last build, so a
// configuration mistake is reported in a second or two, not after the half-minute tsc takes.
// Usage: node bin/build-if-stale.js [project root] (default: this package's root).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What the build reads: a change to any of these makes dist/ stale. */
const INPUT_DIRS = ["src", "migrations"];
const INPUT_FILES = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Why dist/ under `root` must be rebuilt, or undefined when it is newer than every input. */
export function staleReason(root) {
  if (!existsSync(join(root, "dist", "src", "main.js"))) return "dist/ has not been built yet";
  // The oldest output of a source that still exists: tsc rewrites each of them on every build, so
  // this is when the last build ran (an output whose source was deleted is never rewritten).
  const sources = INPUT_DIRS.flatMap((d) => filesUnder(join(root, d))).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith(join(root, "src", "sandbox")),
  );
  const outputs = sources.map((f) => join(root, "dist", f.slice(root.length + 1).replace(/\.ts$/, ".js")));
  const missing = outputs.find((f) => !existsSync(f));
  if (missing) return `${missing.slice(root.length + 1)} is missing`;
  const builtAt = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  const inputs = [...INPUT_DIRS.flatMap((d) => filesUnder(join(root, d))), ...INPUT_FILES.map((f) => join(root, f))].filter((f) =>
    existsSync(f),
  );
  const newer = inputs.find((f) => statSync(f).mtimeMs > builtAt);
  return newer ? `${newer.slice(root.length + 1)} changed since the last build` : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const reason = staleReason(root);
  if (!reason) {
    process.stdout.write("ghconnect: dist/ is up to date; not rebuilding\n");
  } else {
    process.stdout.write(`ghconnect: building dist/ (${reason})…\n`);
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
    process.exit(r.status ?? 1);
  }
}
