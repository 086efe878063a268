// Kept for callers of the CLI package; the client itself lives in @speakers/registry-client.
export { type RegistryClient, registryClient } from "@speakers/registry-client";
export { type ProvisionCommandOptions, provisionCommand } from "./commands/provision.js";
export { type EmbeddedStack, type EmbeddedStackOptions, startEmbeddedStack } from "./embedded-stack.js";
export { equalErrorRate, type OpenSetTrial, openSetRates, rankOneAccuracy } from "./eval/metrics.js";
export { formatReport } from "./eval/report.js";
export { type EvalOptions, type EvalReport, runEval } from "./eval/run-eval.js";
export { buildProgram, type ProgramDeps, runCli } from "./program.js";
