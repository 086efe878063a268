import { type Static, Type } from "@sinclair/typebox";
import { strictObject } from "./common.js";
import { defineMessage } from "./define.js";
import { ERROR_CODES, type ErrorCode } from "./errors.js";

export const ErrorCodeSchema = Type.Unsafe<ErrorCode>(
  Type.Union(ERROR_CODES.map((code) => Type.Literal(code))),
);

/** The one typed error shape: service error replies, `embedding.failed`, per-item batch errors. */
export const ErrorPayloadSchema = strictObject({
  code: ErrorCodeSchema,
  message: Type.String({ maxLength: 4096 }),
  hint: Type.Optional(Type.String({ maxLength: 4096 })),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ErrorPayload = Static<typeof ErrorPayloadSchema>;

export const ErrorPayloadMessage = defineMessage({
  name: "ErrorPayload",
  typeId: "speakers.error.payload.v1",
  description: "Body of a service error reply (with Nats-Service-Error headers) and of embedded errors.",
  schema: ErrorPayloadSchema,
  fixture: {
    code: "AUDIO_TOO_SHORT",
    message: "The clip holds 0.4 s of audio; at least 1 s is needed.",
    hint: "Send at least one second of speech; three or more seconds give reliable results.",
    details: { durationMs: 400, minimumMs: 1000 },
  },
});
