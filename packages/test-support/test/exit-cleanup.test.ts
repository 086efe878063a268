import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(pkgDir, "../..");
// The server module alone: the front door also holds vitest fixtures, which load only under the vitest runner.
const dist = join(pkgDir, "dist/start-nats-server.js");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

/** Runs a separate Node process that starts a server and then ends without calling stop(). */
function runChild(ending: string): Promise<{ pid: number; storeDir: string; code: number | null }> {
  const script = `
    const { startNatsServer } = await import(${JSON.stringify(dist)});
    const s = await startNatsServer();
    console.log(JSON.stringify({ pid: s.pid, storeDir: s.storeDir }));
    ${ending}
  `;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n") && ending.includes("setInterval")) child.kill("SIGTERM");
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        resolvePromise({ ...JSON.parse(out.trim()), code });
      } catch (err) {
        reject(new Error(`child printed ${JSON.stringify(out)}: ${err}`));
      }
    });
  });
}

describe("cleanup when the test process goes away", () => {
  beforeAll(() => {
    // The child runs the built package (plain Node cannot load the TypeScript source).
    execFileSync(join(repoRoot, "node_modules/.bin/tsc"), ["-b", pkgDir], { cwd: repoRoot });
  });

  it("kills the server and removes its store when the process exits without stop()", async () => {
    const child = await runChild("process.exit(0);");
    expect(child.code).toBe(0);
    expect(await waitDead(child.pid)).toBe(true);
    expect(existsSync(child.storeDir)).toBe(false);
  });

  it("kills the server and removes its store when the process gets SIGTERM", async () => {
    const child = await runChild("setInterval(() => {}, 1000);");
    expect(await waitDead(child.pid)).toBe(true);
    expect(existsSync(child.storeDir)).toBe(false);
  });
});
