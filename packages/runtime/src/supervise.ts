import type { Logger } from "@speakers/bus";

export interface PartExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running instance of a supervised part: a child process, or anything that can end by itself. */
export interface RunningPart {
  readonly pid: number | undefined;
  /** Resolves when this instance has ended, expectedly or not. */
  readonly ended: Promise<PartExit>;
  stop(): Promise<void>;
}

/** What the stack knows about one part, for logs, tests and readiness (/readyz). */
export interface PartHealth {
  readonly name: string;
  /** True while an instance runs; false between a death and the restart that replaces it. */
  readonly up: boolean;
  readonly pid: number | undefined;
  /** Restarts after unexpected exits since the stack started. */
  readonly restarts: number;
  /** How the last instance ended, when one did. */
  readonly lastExit: (PartExit & { at: string }) | undefined;
}

export interface Backoff {
  /** First delay before a restart (default 500 ms), doubled after each failed or short-lived run. */
  initialMs: number;
  /** The longest delay (default 30 s). */
  maxMs: number;
  /** A run that lasted this long resets the delay to initialMs (default 60 s). */
  resetAfterMs: number;
}

export interface SuperviseOptions {
  name: string;
  /** Starts one instance and resolves once it serves; throws when it cannot. */
  start: () => Promise<RunningPart>;
  logger: Logger;
  backoff?: Partial<Backoff>;
  /**
   * After this many restarts in a row that fail to start, stop trying and call onGiveUp (default: never give
   * up; a worker that cannot load now may load once the disk or network is back).
   */
  maxFailedRestarts?: number;
  onGiveUp?: (reason: Error) => void;
  /** After each change of health (died, restarted). */
  onChange?: (health: PartHealth) => void;
}

export interface Supervised {
  readonly health: PartHealth;
  /** Stops supervising and the running instance. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * Starts a part and keeps it running: an instance that ends while the stack is not stopping is logged with its
 * exit code or signal and started again after a back-off. The first start is the caller's to fail: it throws.
 */
export async function supervise(options: SuperviseOptions): Promise<Supervised> {
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const log = options.logger;
  let current: RunningPart | undefined = await options.start();
  let startedAt = Date.now();
  let up = true;
  let restarts = 0;
  let lastExit: PartHealth["lastExit"];
  let delay = backoff.initialMs;
  let stopping = false;
  let wake: (() => void) | undefined;
  let restarting: Promise<void> | undefined;

  const health = (): PartHealth => ({
    name: options.name,
    up,
    pid: up ? current?.pid : undefined,
    restarts,
    lastExit,
  });
  const changed = () => options.onChange?.(health());

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const watch = (instance: RunningPart): void => {
    void instance.ended.then((exit) => {
      if (stopping || instance !== current) return;
      up = false;
      lastExit = { ...exit, at: new Date().toISOString() };
      const ranMs = Date.now() - startedAt;
      if (ranMs >= backoff.resetAfterMs) delay = backoff.initialMs;
      log.error(
        { part: options.name, pid: instance.pid, code: exit.code, signal: exit.signal, restartInMs: delay },
        `${options.name} exited unexpectedly (${describeExit(exit)}); restarting`,
      );
      changed();
      restarting = restart();
    });
  };

  const restart = async (): Promise<void> => {
    let failures = 0;
    while (!stopping) {
      await sleep(delay);
      delay = Math.min(delay * 2, backoff.maxMs);
      if (stopping) return;
      try {
        const instance = await options.start();
        if (stopping) {
          await instance.stop();
          return;
        }
        current = instance;
        startedAt = Date.now();
        up = true;
        restarts += 1;
        log.info({ part: options.name, childPid: instance.pid, restarts }, `${options.name} restarted`);
        changed();
        watch(instance);
        return;
      } catch (err) {
        failures += 1;
        log.error(
          { part: options.name, err, failures, retryInMs: delay },
          `${options.name} could not be restarted`,
        );
        if (options.maxFailedRestarts !== undefined && failures >= options.maxFailedRestarts) {
          options.onGiveUp?.(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
    }
  };

  watch(current);
  let stopped: Promise<void> | undefined;
  return {
    get health() {
      return health();
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        // A restart under way finishes its start (and stops what it started) before this returns.
        await restarting;
        const instance = current;
        current = undefined;
        up = false;
        await instance?.stop();
      })();
      return stopped;
    },
  };
}

export function describeExit(exit: PartExit): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return exit.code === null ? "no exit status" : `exit code ${exit.code}`;
}
