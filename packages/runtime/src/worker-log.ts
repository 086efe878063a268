import type { Logger } from "@speakers/bus";

/**
 * One line of the Python worker's log ("2026-11-23 23:41:48,689 INFO speaker_worker: ...") as a log entry at
 * its own level, without the timestamp the logger adds again. `quietWarnings` turns warnings into info: the
 * worker's own drain on stop ends with a disconnect warning that is expected then.
 */
export function logWorkerLine(log: Logger, line: string, quietWarnings = false): void {
  if (!line) return;
  // The worker names its NATS_URL when ready; under the embedded users that URL carries its password.
  const text = line.replace(/(\w+:\/\/[^:/@\s]+):[^@\s]+@/g, "$1:***@");
  const level = / (ERROR|CRITICAL) /.test(text) ? "error" : / WARNING /.test(text) ? "warn" : "info";
  const msg = text.replace(/^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) /, "");
  log[quietWarnings && level === "warn" ? "info" : level](msg);
}
