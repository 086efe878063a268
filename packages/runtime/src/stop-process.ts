import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

/**
 * SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. SIGTERM lets a
 * nats-server flush JetStream and a worker drain. A child that never started (no pid) or has already exited
 * is left alone.
 */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
