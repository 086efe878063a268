export { unknownVoices } from "./plugin.js";
// Everything records.ts exports is public: the config schema, the clip rules and the endpoint payloads.
export * from "./records.js";
