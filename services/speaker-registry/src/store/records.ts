/** What the registry keeps in its KV buckets. Internal: replies are built from these, never sent as they are. */
import type { ModelRef, SampleOrigin, StoredClip } from "@speakers/events";

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
}

/** `voiceprints` bucket: one entry per speaker and model. */
export interface VoiceprintRecord {
  speakerId: string;
  model: ModelRef;
  vector: number[];
  sampleIds: string[];
  updatedAt: string;
}
