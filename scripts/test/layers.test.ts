/**
 * Issue 14's boundary check: `pnpm lint` (biome's noRestrictedImports, configured per layer in biome.json)
 * fails on an upward import or a deep import into another package's src/, and packages/ depend on no
 * service, plugin or app. Planted imports are linted in a temp copy of the tree's layout with the repo's own
 * biome.json, so nothing is ever written into the source tree.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const biome = join(root, "node_modules/.bin/biome");
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** Lints one file at `path` (as if it were in the repo) holding `source`; the exit code and the report. */
async function lintAt(path: string, source: string): Promise<{ code: number; output: string }> {
  const temp = mkdtempSync(join(tmpdir(), "layers-"));
  temps.push(temp);
  const config = JSON.parse(readFileSync(join(root, "biome.json"), "utf8")) as Record<string, unknown>;
  // The temp folder is no git checkout; everything else is the repo's configuration as it is.
  writeFileSync(join(temp, "biome.json"), JSON.stringify({ ...config, vcs: { enabled: false } }));
  mkdirSync(dirname(join(temp, path)), { recursive: true });
  writeFileSync(join(temp, path), source);
  try {
    const { stdout, stderr } = await promisify(execFile)(biome, ["lint", path], { cwd: temp });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

const use = (from: string, name: string) =>
  `import { ${name} } from "${from}";\n\nexport const x = ${name};\n`;

describe("one-way layers", () => {
  it("fails on a library that imports the composed stack, a service or a plugin", async () => {
    for (const [from, name] of [
      ["@speakers/stack", "createStack"],
      ["@speakers/cli", "runCli"],
      ["@speakers/speaker-registry", "createRegistry"],
      ["@speakers/plugin-presence", "presence"],
    ]) {
      const result = await lintAt("packages/runtime/src/planted.ts", use(from as string, name as string));
      expect(result.code, from).not.toBe(0);
      expect(result.output, from).toContain("noRestrictedImports");
    }
  });

  it("fails on a service that imports an app or a plugin, and on a plugin that imports past the SDK", async () => {
    expect((await lintAt("services/replay/src/planted.ts", use("@speakers/cli", "runCli"))).code).not.toBe(0);
    expect(
      (await lintAt("services/replay/src/planted.ts", use("@speakers/plugin-presence", "presence"))).code,
    ).not.toBe(0);
    expect(
      (await lintAt("plugins/presence/src/planted.ts", use("@speakers/bus", "connectBus"))).code,
    ).not.toBe(0);
  });

  it("fails on a deep import into another package, by name or by relative path", async () => {
    const deep = await lintAt("apps/stack/src/planted.ts", use("@speakers/bus/src/connect.js", "connectBus"));
    expect(deep.code).not.toBe(0);
    expect(deep.output).toContain("front door");
    const relative = await lintAt(
      "apps/stack/src/planted.ts",
      use("../../../packages/bus/src/connect.js", "connectBus"),
    );
    expect(relative.code).not.toBe(0);
  });

  it("passes the same imports where the layers allow them", async () => {
    expect(
      (await lintAt("apps/stack/src/planted.ts", use("@speakers/plugin-presence", "presence"))).code,
    ).toBe(0);
    expect((await lintAt("apps/stack/src/planted.ts", use("@speakers/cli", "runCli"))).code).toBe(0);
    expect((await lintAt("packages/runtime/src/planted.ts", use("@speakers/bus", "connectBus"))).code).toBe(
      0,
    );
    expect(
      (await lintAt("plugins/presence/src/planted.ts", use("@speakers/plugin-sdk", "definePlugin"))).code,
    ).toBe(0);
  });

  it("keeps packages/*/package.json free of services, plugins and apps", () => {
    const above = new Set<string>();
    for (const group of ["services", "plugins", "apps"]) {
      for (const dir of readdirSync(join(root, group))) {
        try {
          above.add(
            (JSON.parse(readFileSync(join(root, group, dir, "package.json"), "utf8")) as { name: string })
              .name,
          );
        } catch {
          // not a package (the Python worker)
        }
      }
    }
    for (const dir of readdirSync(join(root, "packages"))) {
      const pkg = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
      expect(
        deps.filter((d) => above.has(d)),
        `packages/${dir}`,
      ).toEqual([]);
    }
  });
});
