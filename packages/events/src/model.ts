import { type Static, Type } from "@sinclair/typebox";
import { strictObject } from "./common.js";
import { SpeakersError } from "./errors.js";

export const ModelRefSchema = strictObject({
  id: Type.String({ minLength: 1, maxLength: 200, description: "e.g. speechbrain/spkrec-ecapa-voxceleb" }),
  revision: Type.String({ minLength: 1, maxLength: 200, description: "pinned revision or version" }),
  dim: Type.Integer({ minimum: 1, maximum: 4096, description: "vector length" }),
});
export type ModelRef = Static<typeof ModelRefSchema>;

/** The models ADR 0001 names; the first is the default. */
export const MODELS = {
  ecapa: {
    id: "speechbrain/spkrec-ecapa-voxceleb",
    revision: "0f99f2d0ebe89ac095bcc5903c4dd8f72b367286",
    dim: 192,
  },
  ge2e: { id: "resemblyzer/ge2e", revision: "0.1.4", dim: 256 },
} as const satisfies Record<string, ModelRef>;

/** `<id>@<revision>`: voiceprints are stored per key, and vectors of different keys are never compared. */
export function modelKey(model: { readonly id: string; readonly revision: string }): string {
  return `${model.id}@${model.revision}`;
}

/** A NATS subject token per ADR 0001: lowercase, every character outside `[a-z0-9_-]` replaced by `_`. */
export function subjectToken(value: string): string {
  const token = value.toLowerCase().replace(/[^a-z0-9_-]/g, "_");
  if (token.length === 0) {
    throw new SpeakersError("INVALID_REQUEST", "A subject token cannot be empty.");
  }
  return token;
}

/** The model's subject token, e.g. `resemblyzer_ge2e_0_1_4`. */
export function modelToken(model: { readonly id: string; readonly revision: string }): string {
  return subjectToken(modelKey(model));
}

export type ModelName = keyof typeof MODELS;

/**
 * A model named on a command line or in config: `ecapa`, `ge2e`, or a model key (`<id>@<revision>`) of one
 * of them, or of one's local unverified weights (`<id>@local-…`). Only models a worker can load are accepted, so a typo fails here rather than as a silent timeout.
 */
export function resolveModel(name: string): ModelRef {
  const wanted = name.trim();
  const byName = (MODELS as Record<string, ModelRef>)[wanted.toLowerCase()];
  if (byName !== undefined) return { ...byName };
  const byKey = Object.values(MODELS).find((m) => modelKey(m) === wanted);
  if (byKey !== undefined) return { ...byKey };
  // A known model's architecture with local weights nobody verified publishes under a key of its own
  // (`<id>@local-<12 hex of their hashes>`, ADR 0005): it can be loaded and replayed into, never mixed.
  const local = /^(.+)@(local-[0-9a-f]{12}(?:\+[a-z0-9]+)?)$/.exec(wanted);
  const base = local && Object.values(MODELS).find((m) => m.id === local[1]);
  if (local && base) return { id: base.id, revision: local[2] as string, dim: base.dim };
  throw new SpeakersError("INVALID_REQUEST", `"${name}" is not a model this system knows.`, {
    hint: `Use one of: ${Object.keys(MODELS).join(", ")}, ${Object.values(MODELS).map(modelKey).join(", ")}.`,
    details: { model: name },
  });
}
