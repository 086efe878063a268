/**
 * The household decision rule on real speech (ADR 0003): the real GE2E worker augments enrollment samples,
 * the registry calibrates from them, and erasure takes the copies. Mechanics and directions, not accuracy
 * (`speakers eval` measures that).
 */
import { Kvm } from "@nats-io/kv";
import {
  CalibrateRequest,
  CalibrationGetRequest,
  CalibrationReply,
  DeleteReply,
  KV_BUCKETS,
  SERVICES,
  SpeakerIdRequest,
} from "@speakers/events";
import { devFiles, devSpeakers } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { householdClips } from "./support/household.js";
import { enrollFiles } from "./support/requests.js";
import { type Stack, startStack } from "./support/stack.js";

const ep = SERVICES.registry.endpoints;
let stack: Stack;

const calibrate = (payload: CalibrateRequest) =>
  stack.call(ep.calibrate, CalibrateRequest, payload, CalibrationReply);

beforeAll(async () => {
  stack = await startStack({ augmentCopies: 4, calibratedDecision: true });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function enrollHousehold(
  speakers: readonly string[],
  filesOf: (s: string) => string[],
  prefix: string,
) {
  const ids: string[] = [];
  for (const s of speakers) {
    const reply = await enrollFiles(stack, `${prefix}-${s}`, filesOf(s).slice(0, 3));
    if (reply.speaker) ids.push(reply.speaker.id);
  }
  return ids;
}

async function eraseAll(ids: readonly string[]) {
  for (const speakerId of ids) await stack.call(ep.delete, SpeakerIdRequest, { speakerId }, DeleteReply);
}

describe("household calibration", () => {
  const speakers = devSpeakers().slice(0, 4);

  it("calibrates clean and household recordings, each on its own trials, on AS-norm's scale", async () => {
    // On AS-norm's scale, where the two sets' thresholds lie far apart (ADR 0003: 4.7 against 4.1 on the dev
    // sets); four voices are too few to centre on, and raw cosines of clean and household trials can land on
    // the same threshold.
    await calibrate({ normalisation: "as-norm" });
    const enrolled: string[] = [];
    try {
      const clean = await enrollHousehold(speakers, devFiles, "clean");
      enrolled.push(...clean);
      const afterEnrolling = await stack.call(ep.calibrationGet, CalibrationGetRequest, {}, CalibrationReply);
      expect(afterEnrolling.calibration?.status).toBe("calibrated");
      expect(afterEnrolling.calibration?.trigger).toBe("enrollment");
      // The enrollment's own recalibration may still be on its way for the last voice: calibrate on all four
      // here, as the household set is below, so that both thresholds are of the same four voices.
      const onClean = await calibrate({});
      expect(onClean.calibration?.status).toBe("calibrated");
      expect(onClean.calibration?.source.augmentedSamples).toBeGreaterThan(0);
      await eraseAll(clean);
      enrolled.length = 0;

      const home = await enrollHousehold(speakers, householdClips, "home");
      enrolled.push(...home);
      const onHome = await calibrate({});
      expect(onHome.calibration?.status).toBe("calibrated");
      expect(onHome.calibration?.scale).toBe("as-norm");
      console.info(
        `AS-norm thresholds: clean ${onClean.calibration?.threshold}, household ${onHome.calibration?.threshold}`,
      );
      // Each set is calibrated on its own trials. That the two thresholds differ is measured by `speakers eval`
      // on all 12 voices (ADR 0003): with four voices they were 0.02-0.3 apart from run to run, once 0.016,
      // so their difference is not asserted here.
      expect(onHome.calibration?.source.genuineTrials).toBeGreaterThan(0);
      expect(onHome.calibration?.computedAt).not.toBe(onClean.calibration?.computedAt);

      // The normalisation switch is per model and changes the scale the thresholds are on.
      const plain = await calibrate({ normalisation: "none", dryRun: true });
      expect(plain.calibration?.scale).toBe("cosine");
      // Four voices are too few to centre on: the record says so.
      expect(onHome.calibration?.normalisation.centring).toEqual({ method: "none", voices: 0 });
    } finally {
      await eraseAll(enrolled);
      await calibrate({ normalisation: "none" });
    }
  }, 900_000);

  it("centres on the household's voices and calibrates on that scale, switchable per model", async () => {
    const six = await enrollHousehold(devSpeakers().slice(0, 6), devFiles, "centre");
    try {
      const centred = await calibrate({ centring: "household", dryRun: true });
      const raw = await calibrate({ centring: "none", dryRun: true });
      expect(centred.calibration?.normalisation.centring).toEqual({ method: "household", voices: 6 });
      expect(raw.calibration?.normalisation.centring?.method).toBe("none");
      // Raw GE2E cosines of different voices sit around 0.6-0.8; with the shared part taken out they spread
      // around 0, so the strangers' threshold lands far lower. (That centring separates voices better is
      // measured by `speakers eval` and the scoring unit test: six clean voices with four copies each are
      // too few trials to show it here without a coin toss.)
      expect(raw.calibration?.threshold ?? 0).toBeGreaterThan(0.6);
      expect(centred.calibration?.threshold ?? 1).toBeLessThan((raw.calibration?.threshold ?? 0) - 0.2);
    } finally {
      await eraseAll(six);
    }
  }, 900_000);

  it("erases a speaker's augmented copies with the speaker", async () => {
    const [id] = await enrollHousehold(speakers.slice(0, 1), devFiles, "erase");
    const keys = async () => {
      const out: string[] = [];
      const kv = await new Kvm(stack.bus.js).open(KV_BUCKETS.speakerSamples.name);
      for await (const k of await kv.keys(`${id}.>`)) out.push(k);
      return out;
    };
    const before = await keys();
    expect(before.some((k) => /_a\d+\./.test(k))).toBe(true);
    await eraseAll([id as string]);
    expect(await keys()).toEqual([]);
  }, 300_000);
});
