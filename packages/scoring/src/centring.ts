/**
 * Household centring (ADR 0003). GE2E's embeddings come out of a ReLU, so every vector lies in the positive
 * orthant and any two voices already score a cosine of 0.6-0.8: what tells people apart is a small part of each
 * vector, on top of a large part every voice (and every room and noise the household has) shares. Subtracting
 * the household's mean voice before the cosine removes that shared part, so scores spread out around 0 and
 * the decision sees the differences between voices rather than what they have in common.
 *
 * The mean is taken over voices, not samples: each enrolled speaker's samples (clean and augmented) count as
 * one voice, and each unknown or imported cohort vector as one more, so a speaker with many samples does not
 * pull the centre towards themself. With fewer than MIN_CENTRING_VOICES voices the mean is mostly the
 * household's own speakers, and subtracting it would subtract them: centring is then off.
 */
import { l2Normalize, type Vector } from "./vectors.js";

export type Centring = "household" | "none";

/** Below this many voices the mean would be the speakers themselves (with two it is their midpoint). */
export const MIN_CENTRING_VOICES = 5;

export interface CentredSpace {
  /** The household's mean voice (unit vectors averaged per voice, then over voices). */
  readonly mean: Vector;
  readonly voices: number;
}

/** The space to score in, or undefined when there are too few voices to centre on. */
export function householdSpace(
  voices: readonly (readonly Vector[])[],
  minVoices = MIN_CENTRING_VOICES,
): CentredSpace | undefined {
  const nonEmpty = voices.filter((v) => v.length > 0);
  const first = nonEmpty[0]?.[0];
  if (first === undefined || nonEmpty.length < minVoices) return undefined;
  const mean = new Array<number>(first.length).fill(0);
  for (const voice of nonEmpty) {
    const share = 1 / (voice.length * nonEmpty.length);
    for (const vector of voice) {
      const unit = l2Normalize(vector);
      for (let i = 0; i < unit.length; i++) mean[i] = (mean[i] ?? 0) + (unit[i] ?? 0) * share;
    }
  }
  return { mean, voices: nonEmpty.length };
}

/** The unit vector of `vector` (normalised first) minus the household's mean, normalised again. */
export function centre(vector: Vector, space: CentredSpace | undefined): Vector {
  const unit = l2Normalize(vector);
  if (space === undefined) return unit;
  return l2Normalize(unit.map((x, i) => x - (space.mean[i] ?? 0)));
}
