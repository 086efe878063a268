// What a plugin needs besides the SDK's own API, so plugins import nothing else of ours.
export { type Static, type TSchema, Type } from "@sinclair/typebox";
export type { Logger } from "@speakers/bus";
export type {
  AudioCaptured,
  AudioFormat,
  Candidate,
  CandidateRef,
  EnrollmentProgress,
  Source,
  SpeakerDeleted,
  SpeakerEnrolled,
  SpeakerIdentified,
  SpeakerRef,
  SpeakerUpdated,
} from "@speakers/events";
export { type ErrorCode, isSpeakersError, SpeakersError } from "@speakers/events";
export { type AudioLookup, type FetchedAudio, fetchAudio } from "./audio.js";
export type {
  EventEnvelope,
  HandlerContext,
  PluginContext,
  ServeRequest,
} from "./context.js";
export { pluginDeadLetterSubject } from "./dead-letter.js";
export {
  type AnyPlugin,
  definePlugin,
  type PluginCleanup,
  type PluginDefinition,
  type PluginHandler,
  type PluginHandlers,
  type PluginStorage,
} from "./define.js";
export { isPluginEventName, PLUGIN_EVENTS, type PluginEvent, type PluginEventName } from "./events.js";
export { kvKey, type PluginKv } from "./kv.js";
export type { PluginObjects, StoredObject } from "./objects.js";
export {
  PLUGIN_PROCESS_READY,
  type PluginProcessReady,
  pluginConfigEnv,
  runPluginProcess,
} from "./process.js";
export {
  pluginDurable,
  type RunningPlugin,
  type RunningPlugins,
  type RunPluginsOptions,
  runPlugins,
  type StartPluginOptions,
  startPlugin,
} from "./run.js";
