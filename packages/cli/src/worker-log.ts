import type { Logger } from "@speakers/bus";

/**
 * One line of the Python worker's log ("2026-11-23 23:41:48,689 INFO speaker_worker: ...") as a log entry at
 * its own level, without the timestamp the logger adds again. `quietWarnings` turns warnings into info: the
 * worker's own drain on stop ends with a disconnect warning that is expected then.
 */
export function logWorkerLine(log: Logger, line: string, quietWarnings = false): void {
  if (!line) return;
  const level = / (ERROR|CRITICAL) /.test(line) ? "error" : / WARNING /.test(line) ? "warn" : "info";
  const msg = line.replace(/^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) /, "");
  log[quietWarnings && level === "warn" ? "info" : level](msg);
}
