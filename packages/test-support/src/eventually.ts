import { vi } from "vitest";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface EventuallyOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Between checks (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message (a function is read when the wait fails). */
  what?: string | (() => string);
}

/**
 * The one poll helper of the tests, on vitest's `vi.waitFor`: calls `check` until it returns a value other
 * than undefined (or stops throwing), and returns that value; fails with `what` after the timeout.
 */
export function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: number | EventuallyOptions = {},
): Promise<T> {
  const o = typeof options === "number" ? { timeoutMs: options } : options;
  const what = () => (typeof o.what === "function" ? o.what() : (o.what ?? "condition"));
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined)
        throw new Error(`timed out after ${o.timeoutMs ?? 60_000} ms waiting for ${what()}`);
      return value;
    },
    { timeout: o.timeoutMs ?? 60_000, interval: o.intervalMs ?? 50 },
  );
}

/** `eventually` for a yes/no check: resolves once `check` holds. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  options: number | EventuallyOptions = {},
): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), options);
}
