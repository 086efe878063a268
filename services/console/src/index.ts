export { type Console, type ConsoleDeps, createConsole } from "./app.js";
export { type ConsoleConfig, consoleConfigFromEnv, DEFAULT_CONSOLE_URI, isLoopbackHost } from "./config.js";
