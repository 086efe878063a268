import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface CreateLoggerOptions {
  /** Overrides LOG_LEVEL (default "info"). */
  level?: string;
  /** Where to write; stdout by default. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/** A JSON logger named after the service; LOG_LEVEL sets the level so operators need no code change. */
export function createLogger(name: string, options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const destination = options.destination;
  return destination ? pino({ name, level }, destination as DestinationStream) : pino({ name, level });
}

/** A child logger for one event, so every line about it can be found by its id and its chain's id. */
export function eventLogger(
  logger: Logger,
  ids: { eventId: string; correlationId?: string | undefined },
): Logger {
  return logger.child(
    ids.correlationId === undefined
      ? { eventId: ids.eventId }
      : { eventId: ids.eventId, correlationId: ids.correlationId },
  );
}
