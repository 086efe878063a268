import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import type { Bus } from "@speakers/bus";
import { waitUntil } from "@speakers/test-support";

/** Polls until `check` holds; fails with `what` after the timeout (test-support's one poll helper). */
export function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 60_000, what = "condition") {
  return waitUntil(check, { timeoutMs, what, intervalMs: 100 });
}

export interface Collected<T> {
  readonly events: T[];
  /** Resolves with everything seen once `done` holds for what was seen (then unsubscribes). */
  until(done: (all: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
}

/** Listens to a subject (core NATS sees every JetStream publish too) from now on. */
// biome-ignore lint/suspicious/noExplicitAny: test events are read loosely and asserted field by field
export function collectEvents<T = any>(bus: Bus, subject: string): Collected<T> {
  const events: T[] = [];
  const sub = bus.nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) events.push(JSON.parse(new TextDecoder().decode(m.data)) as T);
  })();
  return {
    events,
    async until(done, timeoutMs = 90_000) {
      try {
        await waitFor(() => done(events), timeoutMs, `events on ${subject}`);
      } finally {
        sub.unsubscribe();
      }
      return events;
    },
  };
}

const PYTHON = resolve(import.meta.dirname, "../../../embedding-worker/.venv/bin/python");

/** The first `seconds` of a real recording as 16-bit WAV (cut with soundfile from the worker's venv). */
export function cutClip(file: string, seconds: number): Uint8Array {
  const script = [
    "import io, sys, soundfile as sf",
    "data, rate = sf.read(sys.argv[1])",
    "buf = io.BytesIO()",
    "sf.write(buf, data[: int(float(sys.argv[2]) * rate)], rate, format='WAV', subtype='PCM_16')",
    "sys.stdout.buffer.write(buf.getvalue())",
  ].join("\n");
  return new Uint8Array(execFileSync(PYTHON, ["-c", script, file, String(seconds)], { maxBuffer: 64 << 20 }));
}
