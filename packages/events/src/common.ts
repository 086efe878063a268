import {
  type ObjectOptions,
  type SchemaOptions,
  type TLiteral,
  type TObject,
  type TProperties,
  type TUnion,
  Type,
} from "@sinclair/typebox";

/**
 * Schema keyword (kept by JSON Schema tools, ignored by plain validators) saying that the array at
 * JSON pointer `vector` must be as long as the integer at `dim`, both relative to the annotated object.
 * JSON Schema cannot express it; `validate()` here and `contract.py` in the worker both enforce it.
 */
export const VECTOR_DIM_KEYWORD = "x-speakers-vector-dim";

export function vectorDim(vector: string, dim: string): Record<string, { vector: string; dim: string }> {
  return { [VECTOR_DIM_KEYWORD]: { vector, dim } };
}

/** An object schema that admits no properties besides its own (every contract object is one). */
export function strictObject<T extends TProperties>(properties: T, options?: ObjectOptions): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** One of these strings: a union of their literals, in this order. */
export function oneOf<const T extends readonly string[]>(
  values: T,
  options?: SchemaOptions,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

/** RFC 3339 timestamp in UTC or with an offset; a pattern, not `format`, so both languages enforce it. */
export const Timestamp = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$",
  description: "RFC 3339 time",
});

export const Id = Type.String({ minLength: 1, maxLength: 200 });

export const Name = Type.String({ minLength: 1, maxLength: 200 });

export const Vector = Type.Array(Type.Number(), { minItems: 1, maxItems: 4096 });

/** Cosine similarity. */
export const Score = Type.Number({ minimum: -1, maximum: 1 });

export const Count = Type.Integer({ minimum: 0 });

export const Milliseconds = Type.Number({ minimum: 0 });

/** Where audio came from. */
export const SourceSchema = strictObject({
  service: Type.String({
    minLength: 1,
    maxLength: 100,
    description: "publishing service, e.g. audio-capture",
  }),
  deviceId: Type.String({ minLength: 1, maxLength: 200, description: "microphone, satellite or folder" }),
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
