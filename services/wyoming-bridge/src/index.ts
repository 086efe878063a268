export {
  type BoundListener,
  createWyomingBridge,
  errorEvent,
  type WyomingBridge,
  type WyomingBridgeDeps,
} from "./bridge.js";
export {
  type BridgeConfig,
  bridgeConfigFromEnv,
  DEFAULT_URI,
  DEFAULTS,
  type Listener,
  parseRooms,
  parseTcpUri,
  type TagMode,
} from "./config.js";
export { bridgeInfo, PROGRAM_NAME } from "./info.js";
export { SOURCE_SERVICE, tagged, type UtteranceTimings } from "./session.js";
export {
  DEFAULT_FRAME_LIMITS,
  encodeEvent,
  type FrameLimits,
  FrameReader,
  type WyomingEvent,
} from "./wire.js";
