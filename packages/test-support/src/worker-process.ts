import { ensureWorker } from "@speakers/embedding-client";

export interface WorkerProcess {
  stop(): Promise<void>;
  log(): string;
}

/** The real Python worker (GE2E: real weights on these machines), started through the embedding client. */
export async function startWorkerProcess(
  natsUrl: string,
  model: "ecapa" | "ge2e" = "ge2e",
): Promise<WorkerProcess> {
  const lines: string[] = [];
  const handle = await ensureWorker({
    servers: natsUrl,
    model,
    env: { LOG_LEVEL: "INFO" },
    readyTimeoutMs: 120_000,
    onLog: (line) => lines.push(line),
  });
  return { log: () => lines.join("\n"), stop: () => handle.stop() };
}
