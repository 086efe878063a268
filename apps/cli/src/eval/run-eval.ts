/**
 * `speakers eval`: enroll the first N files of every speaker into a fresh, isolated registry, identify every
 * other file, score every (file, voiceprint) pair, and hold each speaker out as a stranger in turn. Every step
 * goes through the real worker and the real registry service; only the hold-out re-applies the registry's own
 * decision rule to the candidates it returned, minus the held-out speaker.
 */
import { call } from "@speakers/bus";
import {
  BatchResult,
  ExtractBatchMeta,
  type IdentifyReply,
  modelKey,
  SERVICES,
  SpeakersError,
} from "@speakers/events";
import { type RegistryClient, registryClient } from "@speakers/registry-client";
import { binOf, cosine, DURATION_BINS } from "@speakers/scoring";
import { startEmbeddedStack } from "../embedded-stack.js";
import { datasetRoots, readDataset } from "./dataset.js";
import { equalErrorRate, type OpenSetTrial, openSetRates, rankOneAccuracy } from "./metrics.js";
import { writePlots } from "./plots.js";
import { type EnrollSelection, type SplitSpeaker, splitDataset } from "./split.js";

export interface EvalOptions {
  dir: string;
  /** Files per speaker to enroll (default 3). */
  enroll?: number;
  /** Enroll the files whose name matches this pattern instead (the rest are tests). */
  enrollGlob?: string;
  /** Enroll and test the files a CSV manifest names, by its role/split column. */
  manifest?: string;
  /** Worker model for the isolated stack (default $SPEAKERS_MODEL). */
  model?: string;
  onProgress?: (phase: "enroll" | "identify" | "embed" | "hold-out", done: number, total: number) => void;
  /** Write det.svg and score-histogram.svg here. */
  plots?: string;
  env?: NodeJS.ProcessEnv;
}

export interface EvalReport {
  model: string;
  speakers: number;
  files: number;
  enrolled_files: number;
  test_files: number;
  /** Equal error rate over every (test file, enrolled voiceprint) pair. */
  eer: number;
  eer_threshold: number;
  /** Rank-1: the best-scoring voiceprint is the right speaker. */
  identification_accuracy: number;
  /** Decided `known` and the right speaker, at the default threshold and margin. */
  identification_accuracy_at_threshold: number;
  open_set_far: number;
  open_set_frr: number;
  stranger_trials: number;
  enrolled_trials: number;
  threshold: number;
  margin: number;
  /** Enrolled files per speaker: N, or with a glob or manifest the most any speaker had. */
  enroll_per_speaker: number;
  /** How they were chosen: the first N by name, `--enroll-glob`, or `--manifest`. */
  enroll_by: "first-n" | "glob" | "manifest";
  enrollment_samples_rejected: number;
  speakers_not_enrolled: string[];
  /** The household's own calibration with every speaker enrolled (what `speakers calibrate` stores). */
  calibration: {
    status: string;
    scale: string;
    target_far: number;
    threshold: number;
    thresholds_by_bin: Record<string, number>;
    own_eer: number;
    genuine_trials: number;
    impostor_trials: number;
    augmented_samples: number;
  };
  /** EER of the open-set decision score (best candidate, calibrated scale) over the held-out trials. */
  decision_eer: number;
  /** Results by speech seconds after VAD: short < 2 s, medium 2-4 s, long > 4 s. */
  by_duration: {
    bin: string;
    test_files: number;
    identification_accuracy: number;
    open_set_far: number;
    open_set_frr: number;
  }[];
  plots?: string[];
  duration_s: number;
}

const BATCH = 16;

export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const started = Date.now();
  const perSpeaker = options.enroll ?? 3;
  if (!Number.isInteger(perSpeaker) || perSpeaker < 1) {
    throw new SpeakersError("INVALID_REQUEST", "--enroll must be a whole number of files, at least 1.");
  }
  const dataset = readDataset(options.dir);
  const selection: EnrollSelection =
    options.manifest !== undefined
      ? { by: "manifest", file: options.manifest }
      : options.enrollGlob !== undefined
        ? { by: "glob", glob: options.enrollGlob }
        : { by: "first", count: perSpeaker };
  const split = splitDataset(dataset, selection);
  const stack = await startEmbeddedStack({
    isolated: true,
    audioRoots: datasetRoots(options.dir, dataset),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  try {
    const client = registryClient(stack.bus);
    const enrolled = await enrollAll(client, split, options);
    const tests = split.flatMap((s) =>
      enrolled.ids.has(s.speaker) ? s.test.map((file) => ({ speaker: s.speaker, file })) : [],
    );
    if (tests.length === 0) {
      throw new SpeakersError(
        "INVALID_REQUEST",
        `No files are left to identify after enrolling (${describeSelection(selection)}).`,
      );
    }
    const identified: IdentifyReply[] = [];
    for (const [i, t] of tests.entries()) {
      identified.push(await client.identifyPath(t.file, 5));
      options.onProgress?.("identify", i + 1, tests.length);
    }
    const first = identified[0] as IdentifyReply;
    const idOf = (speaker: string) => enrolled.ids.get(speaker) as string;

    const vectors = await embedAll(
      stack.bus,
      tests.map((t) => t.file),
      options,
    );
    const voiceprints = new Map<string, number[]>();
    for (const [speaker, id] of enrolled.ids) {
      const detail = await client.get(id, true);
      const vp = detail.voiceprints.find((v) => modelKey(v.model) === modelKey(first.model));
      if (vp?.vector) voiceprints.set(speaker, vp.vector);
    }
    const genuine: number[] = [];
    const impostor: number[] = [];
    tests.forEach((t, i) => {
      const vector = vectors[i];
      if (vector === undefined) return;
      for (const [speaker, vp] of voiceprints)
        (speaker === t.speaker ? genuine : impostor).push(cosine(vector, vp));
    });
    const eer = equalErrorRate(genuine, impostor);

    // Each speaker is held out as a stranger in turn: the registry identifies as if they were not enrolled,
    // under a calibration computed without them (their samples neither trials nor cohort).
    const trials: (OpenSetTrial & { bin: string })[] = [];
    const decisionGenuine: number[] = [];
    const decisionImpostor: number[] = [];
    const holdOuts = [...enrolled.ids.values()];
    let done = 0;
    for (const heldOut of holdOuts) {
      for (const t of tests) {
        const r = await client.identifyPath(t.file, 5, { excludeSpeakers: [heldOut] });
        const truth = idOf(t.speaker);
        const isEnrolled = truth !== heldOut;
        const best = r.candidates[0]?.speakerId;
        const value = r.scoring?.score ?? r.score;
        if (!isEnrolled) decisionImpostor.push(value);
        else decisionGenuine.push(best === truth ? value : Number.NEGATIVE_INFINITY);
        trials.push({ truth, enrolled: isEnrolled, decided: r.speaker?.id, bin: binOf(speechSeconds(r)) });
      }
      options.onProgress?.("hold-out", ++done, holdOuts.length);
    }
    const openSet = openSetRates(trials);
    const rankOne = rankOneAccuracy(
      tests.map((t, i) => ({ truth: idOf(t.speaker), best: identified[i]?.candidates[0]?.speakerId })),
    );
    const atThreshold =
      tests.filter(
        (t, i) => identified[i]?.decision === "known" && identified[i]?.speaker?.id === idOf(t.speaker),
      ).length / tests.length;
    const byDuration = DURATION_BINS.map((b) => {
      const idx = tests.flatMap((_, i) => (binOf(speechSeconds(identified[i])) === b.name ? [i] : []));
      const rates = openSetRates(trials.filter((t) => t.bin === b.name));
      return {
        bin: b.name,
        test_files: idx.length,
        identification_accuracy: rankOneAccuracy(
          idx.map((i) => ({
            truth: idOf(tests[i]?.speaker ?? ""),
            best: identified[i]?.candidates[0]?.speakerId,
          })),
        ),
        open_set_far: rates.far,
        open_set_frr: rates.frr,
      };
    });
    const calibrationReply = await client.calibration(first.model);
    const cal = calibrationReply.calibration;
    const calibration = {
      status: cal?.status ?? "none",
      scale: calibrationReply.inUse.scale,
      target_far: cal?.targetFar ?? 0,
      threshold: calibrationReply.inUse.threshold,
      thresholds_by_bin: Object.fromEntries((cal?.bins ?? []).map((b) => [b.name, b.threshold])),
      own_eer: cal?.eer ?? 0,
      genuine_trials: cal?.source.genuineTrials ?? 0,
      impostor_trials: cal?.source.impostorTrials ?? 0,
      augmented_samples: cal?.source.augmentedSamples ?? 0,
    };
    const decisionEer = equalErrorRate(
      decisionGenuine.map((g) => (Number.isFinite(g) ? g : -1e9)),
      decisionImpostor,
    ).eer;
    const plots =
      options.plots === undefined
        ? undefined
        : writePlots(options.plots, decisionGenuine, decisionImpostor, {
            far: openSet.far,
            frr: openSet.frr,
            threshold: calibration.threshold,
          });

    return {
      model: modelKey(first.model),
      speakers: dataset.length,
      files: dataset.reduce((n, s) => n + s.files.length, 0),
      enrolled_files: enrolled.files,
      test_files: tests.length,
      eer: eer.eer,
      eer_threshold: eer.threshold,
      identification_accuracy: rankOne,
      identification_accuracy_at_threshold: atThreshold,
      open_set_far: openSet.far,
      open_set_frr: openSet.frr,
      stranger_trials: openSet.strangerTrials,
      enrolled_trials: openSet.enrolledTrials,
      threshold: calibration.threshold,
      margin: calibrationReply.inUse.margin,
      enroll_per_speaker:
        selection.by === "first" ? perSpeaker : Math.max(...split.map((s) => s.enroll.length)),
      enroll_by: selection.by === "first" ? "first-n" : selection.by,
      enrollment_samples_rejected: enrolled.rejected,
      speakers_not_enrolled: enrolled.failed,
      calibration,
      decision_eer: decisionEer,
      by_duration: byDuration,
      ...(plots === undefined ? {} : { plots }),
      duration_s: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await stack.stop();
  }
}

function describeSelection(selection: EnrollSelection): string {
  return selection.by === "first"
    ? `the first ${selection.count} per speaker`
    : selection.by === "glob"
      ? `the files matching ${selection.glob}`
      : `the enroll rows of ${selection.file}`;
}

async function enrollAll(client: RegistryClient, split: readonly SplitSpeaker[], options: EvalOptions) {
  const ids = new Map<string, string>();
  const failed: string[] = [];
  let rejected = 0;
  let files = 0;
  for (const [i, s] of split.entries()) {
    const chosen = s.enroll;
    if (chosen.length === 0) {
      // Nothing chosen for this folder: not enrolled, and its files are not tested.
      failed.push(s.speaker);
      options.onProgress?.("enroll", i + 1, split.length);
      continue;
    }
    files += chosen.length;
    try {
      const reply = await client.enrollFiles(s.speaker, chosen, { createOnly: true });
      rejected += reply.result.samplesRejected;
      if (reply.speaker) ids.set(s.speaker, reply.speaker.id);
    } catch (err) {
      // A speaker whose every sample fails the gates is reported, not fatal: that is a finding of the eval.
      if (!(err instanceof SpeakersError) || !err.code.startsWith("ENROLL_")) throw err;
      rejected += chosen.length;
      failed.push(s.speaker);
    }
    options.onProgress?.("enroll", i + 1, split.length);
  }
  return { ids, failed, rejected, files };
}

/** Test embeddings through the worker's extract-batch, by path (the isolated worker may read the eval folder). */
async function embedAll(
  bus: Parameters<typeof call>[0],
  files: readonly string[],
  options: EvalOptions,
): Promise<(number[] | undefined)[]> {
  const out: (number[] | undefined)[] = [];
  for (let start = 0; start < files.length; start += BATCH) {
    const chunk = files.slice(start, start + BATCH);
    const reply = await call(bus, SERVICES.embedding.endpoints.extractBatch, {
      request: ExtractBatchMeta,
      payload: { items: chunk.map((path) => ({ length: 0, path })) },
      reply: BatchResult,
      timeoutMs: 600_000,
    });
    for (const item of reply.items) out.push(item.ok ? item.embedding.vector : undefined);
    options.onProgress?.("embed", Math.min(files.length, start + BATCH), files.length);
  }
  return out;
}

/** Speech seconds after VAD as the worker measured them, else the clip's length. */
function speechSeconds(r: IdentifyReply | undefined): number {
  return r?.quality?.speechSeconds ?? (r?.durationMs ?? 0) / 1000;
}
