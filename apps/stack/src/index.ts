export { defaultAudioDir, type SpeakerFolder, speakerFolders } from "./audio-folders.js";
export { banner } from "./banner.js";
export { DEFAULT_CAPTURE_PORT, type StackConfig, stackConfigFromEnv } from "./config.js";
export { createStackLogger } from "./logging.js";
export { LEAN_NODE_FLAGS, type PluginProcess, startPluginProcess } from "./plugin-process.js";
export { defaultPlugins } from "./plugins.js";
export { mediaTypeOf, type PostedClip, postClip } from "./post-clip.js";
export {
  createStack,
  type Stack,
  type StackDeps,
  type StackHealth,
  type StackPlugins,
  type StackUrls,
} from "./stack.js";
export { type Percentiles, percentile, percentiles } from "./stats.js";
export { type Trace, type Tracer, traceChain } from "./trace.js";
