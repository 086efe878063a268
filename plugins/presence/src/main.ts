import { runPluginProcess } from "@speakers/plugin-sdk";
import { presence } from "./plugin.js";

// Config: SPEAKERS_PLUGIN_PRESENCE='{"homeWindowMinutes":30}', NATS_URL.
await runPluginProcess([presence]);
