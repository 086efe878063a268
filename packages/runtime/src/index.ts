export { type Child, type ChildExit, type SpawnChildOptions, spawnChild } from "./child.js";
export { devAudioDir } from "./dev-audio.js";
export {
  AUTH_CONF,
  CREDENTIALS_FILE,
  type Credentials,
  EMBEDDED_USERS,
  type EmbeddedUser,
  ensureCredentials,
  passwordEnv,
  readCredentials,
  urlAs,
} from "./embedded-credentials.js";
export { type EmbeddedNats, startEmbeddedNats } from "./embedded-nats.js";
export {
  findNatsServer,
  freePort,
  NATS_INSTALL_COMMAND,
  natsServerCandidates,
  requireNatsServer,
} from "./nats-binary.js";
export { DEFAULT_NATS_MEMORY_LIMIT, natsMemoryLimit } from "./nats-memory.js";
export { onProcessExit } from "./process-exit.js";
export { runService } from "./run-service.js";
export { announceStack, type RunningStack, runningStack, STACK_FILE } from "./running-stack.js";
export { stopOnSignal } from "./stop-on-signal.js";
export { stopProcess } from "./stop-process.js";
export {
  type Backoff,
  describeExit,
  type PartExit,
  type PartHealth,
  type RunningPart,
  type Supervised,
  type SuperviseOptions,
  supervise,
} from "./supervise.js";
export { logWorkerLine } from "./worker-log.js";
