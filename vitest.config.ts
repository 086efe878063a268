import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Tests import packages by name; point those names at src so a test never runs a stale dist/.
const root = import.meta.dirname;
const alias: { find: string; replacement: string }[] = [];
for (const group of ["packages", "apps", "services", "plugins"]) {
  for (const dir of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    try {
      const pkg = JSON.parse(readFileSync(join(root, group, dir.name, "package.json"), "utf8")) as {
        name: string;
        exports?: Record<string, unknown>;
      };
      // A subpath export "./x" (e.g. @speakers/test-support) is built from src/x.ts.
      for (const sub of Object.keys(pkg.exports ?? { ".": null })) {
        const file = sub === "." ? "index" : sub.slice(2);
        const find = sub === "." ? pkg.name : `${pkg.name}/${file}`;
        alias.push({ find, replacement: resolve(root, group, dir.name, `src/${file}.ts`) });
      }
    } catch {
      // a folder without package.json is not a workspace package
    }
  }
}

// A name also matches its subpaths ("@speakers/bus" would take "@speakers/test-support"): longest first wins.
alias.sort((a, b) => b.find.length - a.find.length);

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      "{packages,apps,services,plugins,examples}/*/test/**/*.test.ts",
      "deploy/test/**/*.test.ts",
      "scripts/test/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Each file starts its own nats-server; two cores gain nothing from more parallel files.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
