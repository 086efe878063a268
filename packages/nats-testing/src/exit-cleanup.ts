/**
 * Servers left behind by a crashed or interrupted test run keep ports and temp dirs busy, so every live
 * server registers a synchronous cleanup that runs on process exit and on SIGINT/SIGTERM.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort: the process is going away
    }
  }
  cleanups.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Keep the default behaviour (exit) unless the program installed its own handler for this signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", runAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = (): void => {
      process.removeListener(signal, handler);
      onSignal(signal);
    };
    process.on(signal, handler);
  }
}

/** Registers a synchronous cleanup; the returned function unregisters it. */
export function onProcessExit(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
