/**
 * The embedded nats-server runs in its own process group, so a terminal's Ctrl-C reaches only this process.
 * Without a handler Node would die at once and leave the server running on the data folder; with one, the
 * stack stops in order (registry, worker, then a drained server) and the process exits as Ctrl-C would have.
 * A second signal finds no handler left and ends the process at once. Returns the function that removes it.
 */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    void stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  const release = () => {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return release;
}
