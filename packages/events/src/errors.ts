/**
 * The error catalogue: every error the system reports has one stable code here. Codes are part of the
 * contract (Python reads them from `schemas/error-codes.json`, users read them in `docs/errors.md`):
 * add codes, never rename or reuse one.
 */
interface ErrorEntry {
  /** HTTP-like status, also sent as `Nats-Service-Error-Code`. */
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 500 | 503 | 504;
  /** What went wrong, in a sentence a user can read. */
  readonly message: string;
  /** What the user should do about it. */
  readonly hint: string;
}

export const ERRORS = {
  AUDIO_EMPTY: {
    status: 400,
    message: "The audio is empty.",
    hint: "Send the audio bytes as the message body, or an object reference for large clips.",
  },
  AUDIO_CORRUPT: {
    status: 422,
    message: "The audio could not be decoded.",
    hint: "Check that the file is a valid WAV, FLAC, Ogg, MP3, WebM or M4A file and that the declared format matches the bytes.",
  },
  AUDIO_TRUNCATED: {
    status: 422,
    message: "The audio ends before its header says it should.",
    hint: "Re-record or re-export the clip; the upload or the file was cut short.",
  },
  AUDIO_UNSUPPORTED_FORMAT: {
    status: 422,
    message: "The audio format is not supported.",
    hint: "Send WAV, FLAC, Ogg (Vorbis/Opus), MP3, WebM (Opus/Vorbis), M4A (AAC) or raw 16-bit little-endian PCM (declare sampleRate and channels for PCM).",
  },
  AUDIO_TOO_SHORT: {
    status: 422,
    message: "The audio is too short to recognise a speaker.",
    hint: "Send at least one second of speech; three or more seconds give reliable results.",
  },
  AUDIO_TOO_LONG: {
    status: 413,
    message: "The audio is longer than the configured maximum.",
    hint: "Split the recording into shorter clips; the message says the limit.",
  },
  AUDIO_SILENT: {
    status: 422,
    message:
      "The audio contains no audible signal (its level, without any DC offset, is below the silence threshold).",
    hint: "Check the microphone's input level and that the right device is recording.",
  },
  AUDIO_NON_FINITE: {
    status: 422,
    message: "The audio contains NaN or infinite samples.",
    hint: "Fix the producer's sample conversion; float audio must hold finite values in [-1, 1].",
  },
  AUDIO_PATH_FORBIDDEN: {
    status: 400,
    message: "The audio path is outside the allowed folders.",
    hint: "Use a path under one of the worker's configured audio roots, or send the bytes instead.",
  },
  AUDIO_PATH_NOT_FOUND: {
    status: 404,
    message: "No audio file exists at the given path.",
    hint: "Check the path as the worker sees it (inside its container, if it runs in one).",
  },
  AUDIO_OBJECT_NOT_FOUND: {
    status: 404,
    message: "The referenced audio object is not in the Object Store.",
    hint: "The clip may have expired or been deleted; re-publish the audio.",
  },
  MODEL_UNAVAILABLE: {
    status: 503,
    message: "The embedding model is not loaded.",
    hint: "Wait for the worker to report Ready, or check its log for a model download or load failure.",
  },
  MODEL_VERIFY_FAILED: {
    status: 500,
    message: "The embedding model's files do not match the pinned revision.",
    hint: "Delete the model cache and let the worker download the pinned revision again.",
  },
  MODEL_MISMATCH: {
    status: 409,
    message: "The embedding was made by a different model than the one expected.",
    hint: "Compare only vectors of the same model key; re-enroll or replay audio with the live model.",
  },
  EMBEDDING_DIM_MISMATCH: {
    status: 400,
    message: "The vector length does not match the model's dimension.",
    hint: "Send vectors made by one model, with length equal to its dimension.",
  },
  EMBEDDINGS_EMPTY: {
    status: 400,
    message: "No embeddings were given.",
    hint: "Send at least one embedding.",
  },
  INVALID_REQUEST: {
    status: 400,
    message: "The request does not match its schema.",
    hint: "Check the request against packages/events/schemas; the details name the offending field.",
  },
  INVALID_EVENT: {
    status: 400,
    message: "The event does not match its schema.",
    hint: "Fix the publisher; the details name the offending field. The event was dead-lettered.",
  },
  SPEAKER_NOT_FOUND: {
    status: 404,
    message: "No speaker has this id.",
    hint: "List speakers to find the right id; the speaker may have been deleted.",
  },
  SPEAKER_EXISTS: {
    status: 409,
    message: "A speaker with this name already exists.",
    hint: "Choose another name, or add samples to the existing speaker.",
  },
  SAMPLE_NOT_FOUND: {
    status: 404,
    message: "The speaker has no sample with this id.",
    hint: "Get the speaker to see its sample ids.",
  },
  NO_VOICEPRINT: {
    status: 409,
    message: "The speaker has no voiceprint for the live model.",
    hint: "Enroll the speaker again, or replay their samples with the live model.",
  },
  ENROLL_SAMPLE_TOO_SHORT: {
    status: 422,
    message: "The enrollment sample is too short.",
    hint: "Record at least five seconds of natural speech per sample.",
  },
  ENROLL_NO_SPEECH: {
    status: 422,
    message: "The enrollment sample has no voice in it (noise, hum or silence).",
    hint: "Record the person speaking; check the microphone input is the right one and not muted.",
  },
  ENROLL_TOO_LITTLE_SPEECH: {
    status: 422,
    message: "The enrollment sample contains too little speech.",
    hint: "Speak continuously and close to the microphone, with little background noise.",
  },
  ENROLL_SAMPLE_INCONSISTENT: {
    status: 422,
    message: "The enrollment sample does not sound like the speaker's other samples.",
    hint: "Check that only the enrolling person speaks in every sample, then record it again.",
  },
  ENROLL_SAMPLE_CLOSER_TO_OTHER: {
    status: 422,
    message: "The enrollment sample sounds more like another enrolled speaker.",
    hint: "Make sure the right person is speaking; if so, record longer samples in a quieter room.",
  },
  CONSOLE_LOGIN_REQUIRED: {
    status: 401,
    message: "Sign in to the console first.",
    hint: "Open the console's login page and enter the token the console was started with (SPEAKERS_CONSOLE_TOKEN).",
  },
  CONSOLE_REQUEST_FORBIDDEN: {
    status: 403,
    message: "The console refused a request that did not come from its own pages.",
    hint: "Use the console's pages (a request from another site, or to another host name, is refused); reload the page and retry.",
  },
  CONFLICT: {
    status: 409,
    message: "The record was changed by someone else at the same time.",
    hint: "Retry the operation.",
  },
  BUS_UNAVAILABLE: {
    status: 503,
    message: "The NATS server cannot be reached.",
    hint: "Start nats-server with JetStream (-js) and check the configured NATS URL.",
  },
  WORKER_UNAVAILABLE: {
    status: 503,
    message: "No embedding worker answered.",
    hint: "Start the embedding worker and wait until it reports Ready.",
  },
  TIMEOUT: {
    status: 504,
    message: "The operation did not finish in time.",
    hint: "Retry; if it keeps happening, the worker is overloaded or the clip is too long.",
  },
  BACKPRESSURE: {
    status: 503,
    message: "The service is busy and refused more work.",
    hint: "Retry after a short wait, or add another worker.",
  },
  WYOMING_BAD_FRAME: {
    status: 400,
    message: "A Wyoming frame could not be read.",
    hint: "Each event is one JSON header line with `type` (and `data_length`/`payload_length` when data or a payload follow); check the client speaks the Wyoming protocol.",
  },
  WYOMING_FRAME_TOO_LARGE: {
    status: 413,
    message: "A Wyoming header, data or payload is larger than the bridge accepts.",
    hint: "Send audio as many small `audio-chunk` events (Home Assistant sends about 1 KiB each), not one large one.",
  },
  WYOMING_OUT_OF_ORDER: {
    status: 400,
    message: "A Wyoming event arrived where the protocol does not allow it.",
    hint: "Send `audio-start` before any `audio-chunk` and end the utterance with `audio-stop`; keep one format per utterance.",
  },
  WYOMING_UPSTREAM_FAILED: {
    status: 503,
    message: "The upstream speech-to-text service failed or could not be reached.",
    hint: "Check that SPEAKERS_WYOMING_UPSTREAM points at a running Wyoming STT service (e.g. wyoming-faster-whisper).",
  },
  INTERNAL: {
    status: 500,
    message: "An unexpected internal error happened.",
    hint: "Check the service log for the stack trace and report it.",
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERRORS;
export type ErrorStatus = ErrorEntry["status"];

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERRORS, value);
}

/** Wire shape of an error; the TypeBox schema for it lives in `error.ts`. */
export interface ErrorPayloadShape {
  code: ErrorCode;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export interface SpeakersErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error class every package throws; it carries a catalogue code across process boundaries. */
export class SpeakersError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: SpeakersErrorOptions = {}) {
    super(
      message ?? ERRORS[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SpeakersError";
    this.code = code;
    this.status = ERRORS[code].status;
    this.hint = options.hint ?? ERRORS[code].hint;
    this.details = options.details;
  }

  toErrorPayload(): ErrorPayloadShape {
    return toErrorPayload(this);
  }
}

export function isSpeakersError(value: unknown): value is SpeakersError {
  return value instanceof SpeakersError;
}

/** Any thrown value as a wire payload; unknown errors become INTERNAL so nothing untyped leaves a service. */
export function toErrorPayload(error: unknown): ErrorPayloadShape {
  if (error instanceof SpeakersError) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message, hint: ERRORS.INTERNAL.hint };
}

/** A received payload back into a throwable error; a code this build does not know is kept in details. */
export function fromErrorPayload(payload: {
  code: string;
  message: string;
  hint?: string | undefined;
  details?: Record<string, unknown> | undefined;
}): SpeakersError {
  if (isErrorCode(payload.code)) {
    return new SpeakersError(payload.code, payload.message, {
      ...(payload.hint === undefined ? {} : { hint: payload.hint }),
      ...(payload.details === undefined ? {} : { details: payload.details }),
    });
  }
  return new SpeakersError("INTERNAL", payload.message, {
    details: { ...payload.details, unknownCode: payload.code },
  });
}

/** The `Nats-Service-Error` header value: `<CODE>: <message>` (ADR 0001). */
export function serviceErrorHeader(payload: { code: string; message: string }): string {
  return `${payload.code}: ${payload.message}`.replace(/[\r\n]+/g, " ");
}
