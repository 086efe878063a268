export { parseSince, type Since } from "./cursor.js";
export { type BatchOutcome, embedBatch } from "./embed.js";
export {
  createReplay,
  type Replay,
  type ReplayDeps,
  type ReplayProgress,
  type ReplayRun,
  type RunOptions,
} from "./replay.js";
export { buildReport, type ReplayReport, type ReportRow } from "./report.js";
