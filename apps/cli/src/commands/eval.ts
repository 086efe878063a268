import { SpeakersError } from "@speakers/events";
import { formatReport } from "../eval/report.js";
import { runEval } from "../eval/run-eval.js";
import type { Output } from "../output.js";
import { phasedProgress } from "../progress.js";

export async function evalCommand(
  out: Output,
  dir: string,
  o: { enroll?: string; enrollGlob?: string; manifest?: string; json?: boolean; plots?: string },
) {
  if (o.enrollGlob !== undefined && o.manifest !== undefined) {
    throw new SpeakersError("INVALID_REQUEST", "Give --enroll-glob or --manifest, not both.");
  }
  const progress = phasedProgress();
  try {
    const report = await runEval({
      dir,
      ...(o.enroll === undefined ? {} : { enroll: Number(o.enroll) }),
      ...(o.enrollGlob === undefined ? {} : { enrollGlob: o.enrollGlob }),
      ...(o.manifest === undefined ? {} : { manifest: o.manifest }),
      ...(o.plots === undefined ? {} : { plots: o.plots }),
      onProgress: (phase, done, total) => progress.update(phase, done, total),
    });
    progress.stop();
    out.out(o.json ? JSON.stringify(report) : formatReport(report));
  } finally {
    progress.stop();
  }
}
