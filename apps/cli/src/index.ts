export { type Child, type ChildExit, type SpawnChildOptions, spawnChild } from "./child.js";
export { type ProvisionCommandOptions, provisionCommand } from "./commands/provision.js";
export {
  CREDENTIALS_FILE,
  type Credentials,
  EMBEDDED_USERS,
  type EmbeddedUser,
  ensureCredentials,
  readCredentials,
  urlAs,
} from "./embedded-credentials.js";
export { type EmbeddedNats, startEmbeddedNats } from "./embedded-nats.js";
export { type EmbeddedStack, type EmbeddedStackOptions, startEmbeddedStack } from "./embedded-stack.js";
export { equalErrorRate, type OpenSetTrial, openSetRates, rankOneAccuracy } from "./eval/metrics.js";
export { formatReport } from "./eval/report.js";
export { type EvalOptions, type EvalReport, runEval } from "./eval/run-eval.js";
export { buildProgram, type ProgramDeps, runCli } from "./program.js";
export { type RegistryClient, registryClient } from "./registry-client.js";
export { announceStack, type RunningStack, runningStack, STACK_FILE } from "./running-stack.js";
export { logWorkerLine } from "./worker-log.js";
