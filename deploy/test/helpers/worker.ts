import { spawn } from "node:child_process";
import type { NatsConnection } from "@nats-io/nats-core";
import { createEmbeddingClient, workerCommand } from "@speakers/embedding-client";
import { stopProcess } from "@speakers/test-support";

export interface WorkerProcess {
  readonly pid: number | undefined;
  log(): string;
  stop(): Promise<void>;
}

/**
 * The real Python worker (GE2E) with NATS_URL exactly as docker-compose.cluster.yml gives it: every node, each
 * with the worker's credentials. Not ensureWorker, which hands a started worker only the first server: nats-py
 * does not pass credentials to servers it discovers, so a worker that knew one node could not fail over when
 * that node dies. Ready once `embedding` answers a PING and `models` over `probe` (a user allowed to call it).
 */
export async function startClusterWorker(
  natsUrl: string,
  probe: NatsConnection,
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const { command, args, cwd } = workerCommand({});
  const child = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      LOG_LEVEL: "INFO",
      ...env,
      NATS_URL: natsUrl,
      SPEAKERS_MODEL: "ge2e",
      WORKER_ROLE: "live",
      // the worker exits when this test process dies without stopping it
      SPEAKERS_EXIT_WITH_PARENT: "1",
      PYTHONUNBUFFERED: "1",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  const worker: WorkerProcess = {
    pid: child.pid,
    log: () => lines.slice(-40).join("\n"),
    stop: () => stopProcess(child, 10_000),
  };
  const client = createEmbeddingClient(probe, { model: "ge2e", pingTimeoutMs: 1_000, timeoutMs: 2_000 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}):\n${worker.log()}`);
    try {
      await client.ping();
      await client.models();
      return worker;
    } catch (err) {
      if (Date.now() > deadline) {
        await worker.stop();
        throw new Error(`the worker was not ready in 120 s:\n${worker.log()}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
