import { SpeakersError } from "@speakers/events";
import { formatReport } from "../eval/report.js";
import { runEval } from "../eval/run-eval.js";
import type { Output } from "../output.js";
import { progressBar } from "../progress.js";

export async function evalCommand(
  out: Output,
  dir: string,
  o: { enroll?: string; enrollGlob?: string; manifest?: string; json?: boolean; plots?: string },
) {
  if (o.enrollGlob !== undefined && o.manifest !== undefined) {
    throw new SpeakersError("INVALID_REQUEST", "Give --enroll-glob or --manifest, not both.");
  }
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  try {
    const report = await runEval({
      dir,
      ...(o.enroll === undefined ? {} : { enroll: Number(o.enroll) }),
      ...(o.enrollGlob === undefined ? {} : { enrollGlob: o.enrollGlob }),
      ...(o.manifest === undefined ? {} : { manifest: o.manifest }),
      ...(o.plots === undefined ? {} : { plots: o.plots }),
      onProgress: (phase, done, total) => {
        let bar = bars.get(phase);
        if (bar === undefined) {
          for (const b of bars.values()) b.stop();
          bar = progressBar(phase);
          bars.set(phase, bar);
        }
        bar.update(done, total);
      },
    });
    for (const b of bars.values()) b.stop();
    out.out(o.json ? JSON.stringify(report) : formatReport(report));
  } finally {
    for (const b of bars.values()) b.stop();
  }
}
