/**
 * What this process started must not outlive it (a worker, a test's nats-server and its temp dirs): each
 * registers a synchronous cleanup that runs on process exit and on SIGINT/SIGTERM, after which the signal's
 * default (exiting) still happens unless the program handles that signal itself.
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
