export { unknownVoices } from "./plugin.js";
export {
  ClipRequestSchema,
  clipIdFor,
  clipsToDrop,
  NameRequestSchema,
  type UnknownClip,
  type UnknownVoicesConfig,
  UnknownVoicesConfigSchema,
} from "./records.js";
