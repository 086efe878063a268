export { presence } from "./plugin.js";
export {
  LastHeardRequestSchema,
  newer,
  PresenceConfigSchema,
  type PresenceRecord,
  PresenceRecordSchema,
  type WhoIsHomeReply,
  WhoIsHomeRequestSchema,
  whoIsHome,
} from "./records.js";
