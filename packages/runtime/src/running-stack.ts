/**
 * `<data dir>/stack.json`: how a `pnpm start` stack tells `speakers` commands on the same data folder where its
 * nats-server listens. Without it a command would start a second server on the same JetStream store.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const STACK_FILE = "stack.json";

export interface RunningStack {
  /** The embedded nats-server's client URL (loopback, no credentials). */
  url: string;
  /** The process that owns the stack; a file whose pid is gone is left over from a crash. */
  pid: number;
}

/** Writes the file; the returned function removes it again, only if it still names this stack. */
export function announceStack(dataDir: string, stack: RunningStack): () => void {
  const file = join(dataDir, STACK_FILE);
  writeFileSync(file, `${JSON.stringify(stack)}\n`);
  return () => {
    // A second `pnpm start` may have written its own since; that one is not ours to remove.
    if (readStackFile(dataDir)?.pid === stack.pid) rmSync(file, { force: true });
  };
}

/** The stack announced in this data folder, if its process is still alive (whether its URL answers is the caller's connect). */
export function runningStack(dataDir: string): RunningStack | undefined {
  const stack = readStackFile(dataDir);
  return stack !== undefined && isAlive(stack.pid) ? stack : undefined;
}

function readStackFile(dataDir: string): RunningStack | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dataDir, STACK_FILE), "utf8")) as Partial<RunningStack>;
    if (typeof value.url === "string" && Number.isInteger(value.pid)) return value as RunningStack;
  } catch {
    // no file, or one cut short by a crash: no stack to join
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's process (not a stack of ours, yet not dead either).
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
