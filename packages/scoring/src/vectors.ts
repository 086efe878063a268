/**
 * Vector maths for voiceprints. Every score in the registry is a cosine similarity, so vectors are kept
 * L2-normalized and a score is a plain dot product.
 */
import { SpeakersError } from "@speakers/events";

export type Vector = readonly number[];

export function norm(vector: Vector): number {
  let sum = 0;
  for (const x of vector) sum += x * x;
  return Math.sqrt(sum);
}

/** The unit vector in the same direction; a zero or non-finite vector cannot be scored, so it is an error. */
export function l2Normalize(vector: Vector): number[] {
  const length = norm(vector);
  if (!Number.isFinite(length) || length === 0) {
    throw new SpeakersError("INVALID_REQUEST", "An embedding must be a non-zero vector of finite numbers.", {
      details: { norm: length },
    });
  }
  return vector.map((x) => x / length);
}

export function dot(a: Vector, b: Vector): number {
  if (a.length !== b.length) {
    throw new SpeakersError("EMBEDDING_DIM_MISMATCH", undefined, {
      details: { expected: a.length, actual: b.length },
    });
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/** Cosine similarity in [-1, 1]. */
export function cosine(a: Vector, b: Vector): number {
  return dot(l2Normalize(a), l2Normalize(b));
}

/**
 * The voiceprint: the L2-normalized mean of the L2-normalized sample embeddings. Normalizing each sample
 * first gives every sample the same weight, whatever its raw magnitude.
 */
export function voiceprintOf(samples: readonly Vector[]): number[] {
  const first = samples[0];
  if (first === undefined) throw new SpeakersError("EMBEDDINGS_EMPTY");
  const sum = new Array<number>(first.length).fill(0);
  for (const sample of samples) {
    if (sample.length !== first.length) {
      throw new SpeakersError("EMBEDDING_DIM_MISMATCH", undefined, {
        details: { expected: first.length, actual: sample.length },
      });
    }
    const unit = l2Normalize(sample);
    for (let i = 0; i < unit.length; i++) sum[i] = (sum[i] ?? 0) + (unit[i] ?? 0);
  }
  return l2Normalize(sum);
}
