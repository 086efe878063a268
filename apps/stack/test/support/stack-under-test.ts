import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { createLogger, type Logger } from "@speakers/bus";
import type { PartHealth } from "@speakers/runtime";
import { afterAll, beforeAll } from "vitest";
import { createStack, defaultPlugins, type Stack } from "../../src/index.js";

const root = resolve(import.meta.dirname, "../../../..");

/**
 * The plugin processes run from dist/ (as under `pnpm start`), and tests run the built CLI beside the stack:
 * build both and what they reference.
 */
export async function buildStack(): Promise<void> {
  const apps = [resolve(root, "apps/stack"), resolve(root, "apps/cli")];
  await promisify(execFile)("pnpm", ["exec", "tsc", "-b", ...apps], { cwd: root });
}

/** A logger whose entries the test can read back (JSON lines). */
export function capturedLogger(name: string): { logger: Logger; entries: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    if (process.env.LOG_LEVEL) process.stderr.write(chunk);
  });
  return {
    logger: createLogger(name, { level: "info", destination: stream }),
    entries: () =>
      text
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/**
 * What `pnpm start` composes (createStack + defaultPlugins, embedded nats-server in a temp data folder, the GE2E
 * worker), on free loopback ports; restarts come quickly so a test waits on conditions, not on back-off.
 */
export async function startTestStack(
  logger: Logger,
): Promise<{ stack: Stack; dataDir: string; dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "stack-chaos-"));
  const config = {
    natsUrl: undefined,
    dataDir,
    natsPort: 0,
    http: { host: "127.0.0.1", port: 0 },
    mqttUrl: undefined,
    model: "ge2e",
    audioRetention: {},
  };
  const stack = createStack(config, {
    logger,
    ...defaultPlugins(config),
    restartBackoff: { initialMs: 200, maxMs: 2_000 },
  });
  await stack.start();
  return {
    stack,
    dataDir,
    async dispose() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The boilerplate of a test file that runs the composed stack, as a fixture: built and started before the
 * file's (or describe block's) tests, stopped after them; `log` holds what it logged.
 */
export function useTestStack(name: string): {
  readonly log: ReturnType<typeof capturedLogger>;
  readonly stack: Stack;
} {
  const log = capturedLogger(name);
  let started: Awaited<ReturnType<typeof startTestStack>> | undefined;
  beforeAll(async () => {
    await buildStack();
    started = await startTestStack(log.logger);
  }, 600_000);
  afterAll(async () => {
    await started?.dispose();
  });
  return {
    log,
    get stack() {
      if (started === undefined) throw new Error(`useTestStack("${name}") is read before its beforeAll ran`);
      return started.stack;
    },
  };
}

export function part(stack: Stack, name: string): PartHealth {
  const found = stack.health().parts.find((p) => p.name === name);
  if (!found)
    throw new Error(
      `no part ${name}: ${stack
        .health()
        .parts.map((p) => p.name)
        .join(", ")}`,
    );
  return found;
}
