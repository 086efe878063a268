import { runPluginProcess } from "@speakers/plugin-sdk";
import { unknownVoices } from "./plugin.js";

// Config: SPEAKERS_PLUGIN_UNKNOWN_VOICES='{"maxClips":50,"ttlSeconds":604800}', NATS_URL.
await runPluginProcess([unknownVoices]);
