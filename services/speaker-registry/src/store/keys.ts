/**
 * KV key layout. Dots make keys hierarchical, so one speaker's entries are found with a `<speakerId>.>` filter
 * and one model's voiceprints with `*.<model token>`.
 */
import { createHash, randomBytes } from "node:crypto";
import { modelToken } from "@speakers/events";

type ModelLike = { readonly id: string; readonly revision: string };

export function newSpeakerId(): string {
  return `spk_${randomBytes(10).toString("hex")}`;
}

export function newSampleId(): string {
  return `smp_${randomBytes(10).toString("hex")}`;
}

/** A speaker's candidate ref (ADR 0004): how stored events name them, unlinkable once erasure purges the profile. */
export function newCandidateRef(): string {
  return `ref_${randomBytes(10).toString("hex")}`;
}

/**
 * The erasure fence in the `voiceprints` bucket (ADR 0004): written before anything is erased and kept, so
 * every replica's view stops scoring the speaker, and an identification racing the erasure finds it.
 */
export const ERASED_KEY_PREFIX = "erased.";

export function erasedKey(speakerId: string): string {
  return `${ERASED_KEY_PREFIX}${speakerId}`;
}

export function newEnrollmentId(): string {
  return `enr_${randomBytes(10).toString("hex")}`;
}

/** Names compare case- and space-insensitively: "alice " and "Alice" are one person. */
export function normalizeName(name: string): string {
  return name.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase();
}

/** The name index entry in the `speakers` bucket; created atomically, so two enrollments of a new name agree. */
export function nameKey(name: string): string {
  return `name.${createHash("sha1").update(normalizeName(name)).digest("hex")}`;
}

export const NAME_KEY_PREFIX = "name.";

export function sampleKey(speakerId: string, sampleId: string, model: ModelLike): string {
  return `${speakerId}.${sampleId}.${modelToken(model)}`;
}

export function voiceprintKey(speakerId: string, model: ModelLike): string {
  return `${speakerId}.${modelToken(model)}`;
}

/** Every KV key of a speaker in the samples or voiceprints bucket. */
export function speakerFilter(speakerId: string): string {
  return `${speakerId}.>`;
}

export function modelVoiceprintsFilter(model: ModelLike): string {
  return `*.${modelToken(model)}`;
}

/** Where the registry keeps a sample's enrollment audio in the Object Store. */
export function clipName(speakerId: string, sampleId: string, extension: string): string {
  return `enroll/${speakerId}/${sampleId}.${extension}`;
}

const SPEAKER_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Ids travel into KV keys and filters, so anything but a plain token is refused before it gets there. */
export function isValidSpeakerId(id: string): boolean {
  return SPEAKER_ID.test(id);
}
