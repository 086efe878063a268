/** What the registry keeps in its KV buckets. Internal: replies are built from these, never sent as they are. */
import type { AugmentCondition, ModelRef, SampleOrigin, StoredClip } from "@speakers/events";

/** `speakers` bucket, key = speaker id. */
export interface ProfileRecord {
  id: string;
  name: string;
  /** Candidate ref in stored events (ADR 0004); profiles written before it get one on first use. */
  ref?: string;
  createdAt: string;
  updatedAt: string;
}

/** `speaker-samples` bucket: one entry per sample embedding (a sample has one per model). */
export interface SampleRecord {
  sampleId: string;
  speakerId: string;
  model: ModelRef;
  vector: number[];
  durationMs: number;
  addedAt: string;
  origin: SampleOrigin;
  /** The enrollment audio this registry keeps (Object Store), erased with the speaker. */
  clip?: StoredClip;
  /**
   * `augmented`: a seeded copy of the clean sample `parentSampleId` under a simulated household condition
   * (ADR 0003), stored under the same speaker so erasing the speaker or the parent sample erases it.
   * `adapted`: a live identification kept by opt-in adaptation (its embedding; `origin` names the audio
   * event). Absent: a clean sample.
   */
  kind?: "clean" | "augmented" | "adapted";
  parentSampleId?: string;
  condition?: AugmentCondition;
  /** Speech after VAD and an SNR estimate, when the worker measured them. */
  speechMs?: number;
  snrDb?: number;
}

/**
 * Not a sample the household enrolled (an augmented copy or an adapted identification): left out of sample
 * counts, the quality gates and the stored clean voiceprint; the scoring index and erasure take them.
 */
export function isCopy(record: SampleRecord): boolean {
  return record.kind === "augmented" || record.kind === "adapted";
}

/** `voiceprints` bucket: one entry per speaker and model. */
export interface VoiceprintRecord {
  speakerId: string;
  model: ModelRef;
  vector: number[];
  sampleIds: string[];
  updatedAt: string;
}
