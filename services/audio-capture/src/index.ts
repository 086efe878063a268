export { type BusHealth, watchBusHealth } from "./bus-health.js";
export { type Capture, createCapture } from "./capture.js";
export { type CaptureConfig, captureConfigFromEnv, DEFAULT_HTTP } from "./config.js";
export {
  AUDIO_EXTENSIONS,
  createFolderWatcher,
  type FolderWatcher,
  type FolderWatcherOptions,
  fileEventId,
  mediaTypeForFile,
  type ScanReport,
  type SeenRecord,
} from "./folder-watcher.js";
export {
  AUDIO_ROUTE,
  type CaptureQuery,
  CaptureQuerySchema,
  createHttpApp,
  DEFAULT_TIMEOUTS,
  type HttpDeps,
  type HttpTimeouts,
} from "./http-app.js";
export {
  type AudioInput,
  type CaptureLimits,
  CE_SOURCE,
  DEFAULT_LIMITS,
  type Published,
  publishAudio,
  SERVICE_NAME,
} from "./publish-audio.js";
export { type PublishFileResult, type PublishFilesOptions, publishFiles } from "./publish-files.js";
export {
  busReadiness,
  captureReadiness,
  type Readiness,
  type ReadinessOptions,
  type ReadyState,
} from "./readiness.js";
export { parseMediaType, type SniffedAudio, sniffAudio } from "./sniff.js";
