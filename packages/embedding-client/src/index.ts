export {
  type AugmentSource,
  type BatchClip,
  createEmbeddingClient,
  type EmbeddingClient,
  type EmbeddingClientOptions,
  type ModelChoice,
  PING_SUBJECT,
  type WorkerPing,
} from "./client.js";
export {
  type EnsureWorkerOptions,
  ensureWorker,
  type WorkerExit,
  type WorkerHandle,
} from "./ensure-worker.js";
export { defaultWorkerDir, type WorkerCommand, workerCommand } from "./worker-command.js";
