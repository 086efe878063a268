/** supervise() on real child processes: restarts after a death, gives up when told, and stops for good. */
import { type RunningPart, type Supervised, spawnChild, supervise } from "@speakers/runtime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { capturedLogger } from "./support/stack-under-test.js";

const log = capturedLogger("supervise-test");

/** A real process that runs until it is killed. */
function sleeper(): RunningPart {
  const child = spawnChild({
    command: process.execPath,
    args: ["-e", "setInterval(() => {}, 1 << 30)"],
    logger: log.logger,
  });
  return { pid: child.pid, ended: child.ended, stop: () => child.stop(2_000) };
}

const alive = (pid: number | undefined) => {
  try {
    process.kill(pid as number, 0);
    return true;
  } catch {
    return false;
  }
};

let current: Supervised | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

/** Supervises a sleeper process under `name`, counting in `sup.starts` how often it was started. */
function superviseSleeper(
  name: string,
  backoff: { initialMs: number; maxMs?: number },
  sup: { starts: number },
) {
  return supervise({
    name,
    logger: log.logger,
    backoff,
    start: async () => {
      sup.starts += 1;
      return sleeper();
    },
  });
}

describe("supervise", () => {
  it("restarts a process that was SIGKILLed and logs how it ended", async () => {
    const sup = { starts: 0 };
    current = await superviseSleeper("sleeper", { initialMs: 50 }, sup);
    const first = current.health.pid;
    expect(current.health).toMatchObject({ name: "sleeper", up: true, restarts: 0 });
    process.kill(first as number, "SIGKILL");
    await vi.waitFor(() => expect(current?.health.restarts).toBe(1), { timeout: 20_000 });
    expect(current.health).toMatchObject({ up: true, lastExit: { signal: "SIGKILL", code: null } });
    expect(current.health.pid).not.toBe(first);
    expect(alive(current.health.pid)).toBe(true);
    expect(sup.starts).toBe(2);
    const entry = log.entries().find((e) => e.part === "sleeper" && e.signal === "SIGKILL");
    expect(entry?.msg).toBe("sleeper exited unexpectedly (signal SIGKILL); restarting");
    expect(entry?.pid).toBe(first);
  });

  it("reports a part that keeps failing to restart as down, and gives up after the limit", async () => {
    const onGiveUp = vi.fn();
    let starts = 0;
    current = await supervise({
      name: "fragile",
      logger: log.logger,
      backoff: { initialMs: 20, maxMs: 40 },
      maxFailedRestarts: 3,
      onGiveUp,
      start: async () => {
        starts += 1;
        if (starts > 1) throw new Error(`start ${starts} refused`);
        return sleeper();
      },
    });
    process.kill(current.health.pid as number, "SIGTERM");
    await vi.waitFor(() => expect(onGiveUp).toHaveBeenCalledTimes(1), { timeout: 20_000 });
    expect(onGiveUp.mock.calls[0]?.[0]).toBeInstanceOf(Error);
    expect(starts).toBe(4);
    expect(current.health).toMatchObject({ up: false, pid: undefined, lastExit: { signal: "SIGTERM" } });
    const failures = log.entries().filter((e) => e.msg === "fragile could not be restarted");
    expect(failures.map((e) => e.failures)).toEqual([1, 2, 3]);
  });

  it("stops the running process and never restarts after stop(), even mid back-off", async () => {
    const sup = { starts: 0 };
    current = await superviseSleeper("stopped", { initialMs: 60_000 }, sup);
    const pid = current.health.pid;
    process.kill(pid as number, "SIGKILL");
    await vi.waitFor(() => expect(current?.health.up).toBe(false), { timeout: 20_000 });
    // A minute of back-off is under way; stop() must not wait for it.
    await current.stop();
    expect(sup.starts).toBe(1);
    const again = await supervise({ name: "stopped-2", logger: log.logger, start: async () => sleeper() });
    const second = again.health.pid;
    await again.stop();
    expect(alive(second)).toBe(false);
    expect(again.health.up).toBe(false);
  });
});
