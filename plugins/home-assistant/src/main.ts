import { runPluginProcess } from "@speakers/plugin-sdk";
import { homeAssistantPlugin } from "./plugin.js";

// Config: SPEAKERS_PLUGIN_HOME_ASSISTANT='{"mqttUrl":"mqtt://homeassistant.local:1883","username":"…"}', NATS_URL.
await runPluginProcess([homeAssistantPlugin()]);
