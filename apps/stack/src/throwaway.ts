import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@speakers/bus";
import { defaultPlugins } from "./plugins.js";
import { createStack, type Stack } from "./stack.js";

/**
 * A full stack (embedded nats-server, worker, registry, capture, presence and unknown-voices) in a temp folder
 * on free loopback ports, for the demo and the benchmark: it never touches ./data or a running `pnpm start`.
 */
export function throwawayStack(logger: Logger): { stack: Stack; dataDir: string; dispose(): Promise<void> } {
  const dataDir = mkdtempSync(join(tmpdir(), "speakers-run-"));
  const config = {
    natsUrl: undefined,
    dataDir,
    natsPort: 0,
    http: { host: "127.0.0.1", port: 0 },
    mqttUrl: undefined,
    model: process.env.SPEAKERS_MODEL || undefined,
    audioRetention: {},
  };
  const stack = createStack(config, { logger, ...defaultPlugins(config) });
  return {
    stack,
    dataDir,
    async dispose() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Writes why a demo or bench run failed (with its stack) to stderr; returns the exit code to end with. */
export function reportFailure(run: string, err: unknown): number {
  process.stderr.write(`${run} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
