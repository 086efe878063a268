import { createLogger, type Logger } from "@speakers/bus";
import pretty from "pino-pretty";

/**
 * A person at a terminal gets one readable line per log entry; a pipe or a log collector gets pino's JSON.
 * SPEAKERS_LOG_FORMAT=json|pretty overrides the guess.
 */
export function createStackLogger(
  name: string,
  options: { level?: string; env?: NodeJS.ProcessEnv } = {},
): Logger {
  const env = options.env ?? process.env;
  const level = env.LOG_LEVEL ?? options.level ?? "info";
  const format = env.SPEAKERS_LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json");
  if (format !== "pretty") return createLogger(name, { level });
  return createLogger(name, {
    level,
    destination: pretty({
      colorize: true,
      translateTime: "HH:MM:ss.l",
      ignore: "pid,hostname,name",
      messageFormat: "{if component}[{component}] {end}{if plugin}[{plugin}] {end}{msg}",
      hideObject: false,
      singleLine: true,
      // Synchronous, so the banner printed after start() comes after the start-up lines, not among them.
      sync: true,
    }),
  });
}
