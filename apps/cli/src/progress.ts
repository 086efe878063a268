import { Presets, SingleBar } from "cli-progress";

/** A progress bar on stderr (stdout stays clean for --json); silent when stderr is not a terminal. */
export function progressBar(label: string): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label.padEnd(10)} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** One bar per phase, the earlier phases' bars stopped when a new phase starts. */
export function phasedProgress(): { update(phase: string, done: number, total: number): void; stop(): void } {
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  const stop = () => {
    for (const b of bars.values()) b.stop();
  };
  return {
    update(phase, done, total) {
      let bar = bars.get(phase);
      if (bar === undefined) {
        stop();
        bar = progressBar(phase);
        bars.set(phase, bar);
      }
      bar.update(done, total);
    },
    stop,
  };
}
