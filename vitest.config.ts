import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Tests import packages by name; point those names at src so a test never runs a stale dist/.
const root = import.meta.dirname;
const alias: Record<string, string> = {};
for (const group of ["packages", "services", "plugins"]) {
  for (const dir of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    try {
      const pkg = JSON.parse(readFileSync(join(root, group, dir.name, "package.json"), "utf8")) as {
        name: string;
      };
      alias[pkg.name] = resolve(root, group, dir.name, "src/index.ts");
    } catch {
      // a folder without package.json is not a workspace package
    }
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["{packages,services,plugins,examples}/*/test/**/*.test.ts", "deploy/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Each file starts its own nats-server; two cores gain nothing from more parallel files.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
