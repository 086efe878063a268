/**
 * The household's decision rule in the registry (ADR 0003): the calibration record in KV `registry-state`
 * (`calibration.<model token>`), and per model a scoring index (voiceprints with their AS-norm cohort
 * statistics) built when the voiceprints or the calibration change, never per identification.
 */
import { type KV, Kvm } from "@nats-io/kv";
import {
  type CalibrationRecord,
  type CalibrationReply,
  KV_BUCKETS,
  type ModelRef,
  modelKey,
  modelToken,
} from "@speakers/events";
import {
  buildIndex,
  type CalibrationSample,
  type Centring,
  calibrate,
  DEFAULT_TARGET_FAR,
  type DecisionRule,
  householdSpace,
  type Normalisation,
  ruleFor,
  type ScoringIndex,
  voiceprintOf,
} from "@speakers/scoring";
import type { RegistryContext } from "./context.js";
import type { SampleRecord, VoiceprintRecord } from "./store/records.js";

export type CalibrationTrigger = CalibrationRecord["trigger"];

interface Settings {
  targetFar: number;
  normalisation: Normalisation;
  centring: Centring;
}

interface Entry {
  signature: string;
  index: ScoringIndex;
  rule: DecisionRule;
  calibration: CalibrationRecord | undefined;
}

const calibrationKey = (model: ModelRef) => `calibration.${modelToken(model)}`;
const settingsKey = (model: ModelRef) => `calibration-settings.${modelToken(model)}`;

export class HouseholdScoring {
  private kv: KV | undefined;
  private readonly entries = new Map<string, Entry>();
  /** What-if rules (an eval's held-out stranger), by model and excluded speakers; small and short-lived. */
  private readonly whatIf = new Map<string, Entry>();

  constructor(private readonly ctx: () => RegistryContext) {}

  private async state(): Promise<KV> {
    this.kv ??= await new Kvm(this.ctx().bus.js).open(KV_BUCKETS.registryState.name);
    return this.kv;
  }

  /** The model's calibration settings, with every change any replica finished before the call. */
  async settings(model: ModelRef): Promise<Settings> {
    await this.ctx().state.sync();
    return this.heldSettings(model);
  }

  private heldSettings(model: ModelRef): Settings {
    const stored = this.ctx().state.get<Partial<Settings>>(settingsKey(model)) ?? {};
    return {
      targetFar: stored.targetFar ?? DEFAULT_TARGET_FAR,
      // Household centring without AS-norm is the default: it separated voices best in the figures of
      // ADR 0003; AS-norm stays one switch away.
      normalisation: stored.normalisation ?? "none",
      centring: stored.centring ?? "household",
    };
  }

  /** The model's stored calibration, with every change any replica finished before the call. */
  async storedCalibration(model: ModelRef): Promise<CalibrationRecord | undefined> {
    await this.ctx().state.sync();
    return this.heldCalibration(model);
  }

  /** The stored calibration as the registry-state view holds it now (for a caller that just synced it). */
  heldCalibration(model: ModelRef): CalibrationRecord | undefined {
    return this.ctx().state.get<CalibrationRecord>(calibrationKey(model));
  }

  /**
   * Every sample embedding of the model, augmented and adapted included: trials, cohort and voiceprints.
   * A caller that has just synced the voiceprints passes them, so a rebuild asks the bucket once, not twice.
   */
  async samplesOf(model: ModelRef, voiceprints?: readonly VoiceprintRecord[]): Promise<SampleRecord[]> {
    const ctx = this.ctx();
    const [held, samples] = await Promise.all([
      voiceprints ?? ctx.store.voiceprintsOfModel(model),
      ctx.store.samplesOfModel(model),
    ]);
    const enrolled = new Set(held.map((v) => v.speakerId));
    return samples.filter((s) => enrolled.has(s.speakerId));
  }

  /**
   * Recomputes a model's calibration from the stored samples and stores it (unless `dryRun`). Runs after
   * every enrollment change; an eval's what-if passes `excludeSpeakers` with `dryRun`.
   */
  async recalibrate(
    model: ModelRef,
    trigger: CalibrationTrigger,
    options: {
      targetFar?: number;
      normalisation?: Normalisation;
      centring?: Centring;
      excludeSpeakers?: readonly string[];
      dryRun?: boolean;
    } = {},
  ): Promise<CalibrationReply> {
    const kv = await this.state();
    const current = await this.settings(model);
    const settings: Settings = {
      targetFar: options.targetFar ?? current.targetFar,
      normalisation: options.normalisation ?? current.normalisation,
      centring: options.centring ?? current.centring,
    };
    const samples = await this.samplesOf(model);
    const extra = await this.ctx().sources.cohort(model);
    const result = calibrate({
      samples: samples.map(toCalibrationSample),
      unknownCohort: extra.unknown.map((c) => c.vector),
      importedCohort: extra.imported.map((c) => c.vector),
      targetFar: settings.targetFar,
      normalisation: settings.normalisation,
      centring: settings.centring,
      ...(options.excludeSpeakers === undefined ? {} : { excludeSpeakers: options.excludeSpeakers }),
    });
    const record: CalibrationRecord = { ...result, model, computedAt: new Date().toISOString(), trigger };
    if (!options.dryRun) {
      if (
        options.targetFar !== undefined ||
        options.normalisation !== undefined ||
        options.centring !== undefined
      ) {
        await kv.put(settingsKey(model), JSON.stringify(settings));
      }
      // Reads here see the new calibration (and its settings, written first) from now on.
      await this.ctx().state.waitFor(await kv.put(calibrationKey(model), JSON.stringify(record)));
      this.entries.delete(modelKey(model));
    }
    const policy = this.ctx().policy(modelKey(model));
    const rule = ruleFor(record, policy, {
      normalisation: result.normalisation.method,
      centring: result.normalisation.centring?.method ?? "none",
    });
    return { model, calibration: record, inUse: inUseOf(rule) };
  }

  async reply(model: ModelRef): Promise<CalibrationReply> {
    const { rule, calibration } = await this.scoringFor(model);
    return { model, ...(calibration === undefined ? {} : { calibration }), inUse: inUseOf(rule) };
  }

  /**
   * The index and rule identification uses: rebuilt when a voiceprint of the model or its calibration
   * changed since the last build. With `excludeSpeakers`, a what-if without those speakers (cached too).
   */
  async scoringFor(model: ModelRef, excludeSpeakers: readonly string[] = []): Promise<Entry> {
    const ctx = this.ctx();
    // Both views checked against their buckets at once (one round trip), then read from memory.
    const [voiceprints] = await Promise.all([ctx.store.voiceprintsOfModel(model), ctx.state.sync()]);
    const calibration = this.heldCalibration(model);
    const settings = this.heldSettings(model);
    const sources = ctx.sources.held(model);
    const signature = [
      ...voiceprints.map((v) => `${v.speakerId}@${v.updatedAt}`).sort(),
      calibration?.computedAt ?? "-",
      settings.normalisation,
      settings.centring,
      ctx.sources.signature(sources),
    ].join("|");
    const excluded = new Set(excludeSpeakers);
    const cacheKey = `${modelKey(model)}#${[...excluded].sort().join(",")}`;
    const cache = excluded.size === 0 ? this.entries : this.whatIf;
    const hit = cache.get(cacheKey);
    if (hit && hit.signature === signature) return hit;

    const samples = (await this.samplesOf(model, voiceprints)).filter((s) => !excluded.has(s.speakerId));
    const kept = voiceprints.filter((v) => !excluded.has(v.speakerId));
    // Unknown voices heard (never in the statistics of the speaker they were closest to) and an imported bank.
    const extra = await ctx.sources.cohort(model);
    // Multi-condition voiceprints: the mean over clean and augmented samples, as the calibration scores.
    const own = new Map(
      kept.map((v) => [v.speakerId, samples.filter((s) => s.speakerId === v.speakerId).map((s) => s.vector)]),
    );
    const cohortExtra = [
      ...extra.unknown.filter((c) => c.speakerId === undefined || !excluded.has(c.speakerId)),
      ...extra.imported,
    ];
    // The voices the calibration centred on: each speaker once, each unknown or imported vector once.
    const space =
      settings.centring === "household"
        ? householdSpace([
            ...[...own.values()].filter((v) => v.length > 0),
            ...cohortExtra.map((c) => [c.vector]),
          ])
        : undefined;
    const multi = buildIndex({
      // A speaker whose samples are gone (erased while this view still holds the voiceprint) keeps the
      // stored voiceprint until the view catches up; the erasure fence decides what may be published.
      voiceprints: kept.map((v) => {
        const vectors = own.get(v.speakerId) ?? [];
        return {
          speakerId: v.speakerId,
          vector: vectors.length > 0 ? voiceprintOf(vectors) : v.vector,
          samples: vectors,
        };
      }),
      cohort: [...samples.map((s) => ({ speakerId: s.speakerId, vector: s.vector })), ...cohortExtra],
      normalisation: settings.normalisation,
      ...(space === undefined ? {} : { space }),
    });
    const policy = ctx.policy(modelKey(model));
    const rule = !ctx.calibratedDecision
      ? ruleFor(undefined, policy, multi)
      : excluded.size === 0
        ? ruleFor(calibration, policy, multi)
        : ruleFor(
            (await this.recalibrate(model, "request", { excludeSpeakers: [...excluded], dryRun: true }))
              .calibration,
            policy,
            multi,
          );
    // Without a calibration the built-in cosine rule decides, on the clean voiceprints it was set for.
    const index =
      rule.source === "calibration"
        ? multi
        : buildIndex({ voiceprints: kept, cohort: [], normalisation: "none" });
    const entry = { signature, index, rule, calibration };
    if (cache === this.whatIf && this.whatIf.size > 32) this.whatIf.clear();
    cache.set(cacheKey, entry);
    return entry;
  }
}

function toCalibrationSample(s: SampleRecord): CalibrationSample {
  return {
    speakerId: s.speakerId,
    group: s.parentSampleId ?? s.sampleId,
    kind: s.kind ?? "clean",
    vector: s.vector,
    speechSeconds: (s.speechMs ?? s.durationMs) / 1000,
    carriesOtherVoices: s.condition?.noise === "babble",
  };
}

function inUseOf(rule: DecisionRule): CalibrationReply["inUse"] {
  return { scale: rule.scale, threshold: rule.threshold, margin: rule.margin, source: rule.source };
}
