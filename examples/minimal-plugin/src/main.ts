import { runPluginProcess } from "@speakers/plugin-sdk";
import { hello } from "./plugin.js";

// NATS_URL picks the server; SPEAKERS_PLUGIN_HELLO='{"greeting":"Hi"}' sets the config. SIGTERM drains and exits.
await runPluginProcess([hello]);
