import { type Bus, closeBus } from "./connect.js";

export type Cleanup = () => unknown | Promise<unknown>;

export interface InstallShutdownOptions {
  signals?: NodeJS.Signals[];
  /** Called after the bus drained; defaults to process.exit(0) (exit code 1 when a cleanup failed). */
  exit?: (code: number) => void;
}

/**
 * On SIGTERM/SIGINT, stop taking work (extra cleanups: consumers, services, HTTP), then drain the connection so
 * in-flight acks and publishes reach the server. Runs once however many signals arrive. Returns the same
 * shutdown as a function, for tests and for programs that end on their own.
 */
export function installShutdown(
  bus: Bus,
  extra: Cleanup[] = [],
  options: InstallShutdownOptions = {},
): () => Promise<void> {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  let running: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    running ??= (async () => {
      for (const signal of signals) process.removeListener(signal, onSignal);
      let failed = false;
      for (const cleanup of extra) {
        try {
          await cleanup();
        } catch (err) {
          failed = true;
          bus.logger.error({ err }, "cleanup failed during shutdown");
        }
      }
      try {
        await closeBus(bus);
      } catch (err) {
        failed = true;
        bus.logger.error({ err }, "drain failed during shutdown");
      }
      bus.logger.info("shut down");
      (options.exit ?? ((code) => process.exit(code)))(failed ? 1 : 0);
    })();
    return running;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    bus.logger.info({ signal }, "shutting down");
    void shutdown();
  };
  for (const signal of signals) process.on(signal, onSignal);
  return shutdown;
}
