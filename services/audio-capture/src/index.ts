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
export { AUDIO_ROUTE, createHttpHandler, type HttpDeps } from "./http-routes.js";
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
export { parseMediaType, type SniffedAudio, sniffAudio } from "./sniff.js";
