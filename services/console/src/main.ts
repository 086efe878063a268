/** `node dist/main.js`: connect to NATS, serve the console on SPEAKERS_CONSOLE_URI, drain on SIGTERM. */
import { connectBus, installShutdown } from "@speakers/bus";
import { createConsole } from "./app.js";
import { consoleConfigFromEnv } from "./config.js";

const config = consoleConfigFromEnv();
const bus = await connectBus({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222", name: "console" });
const console_ = createConsole({ bus, config });
const url = await console_.listen();
bus.logger.info({ url }, "console listening");
installShutdown(bus, [() => console_.close()]);
