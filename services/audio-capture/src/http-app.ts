import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import { type Static, Type } from "@sinclair/typebox";
import type { Bus, Logger } from "@speakers/bus";
import { isSpeakersError, SpeakersError, toErrorPayload } from "@speakers/events";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { BusHealth } from "./bus-health.js";
import { type CaptureLimits, publishAudio } from "./publish-audio.js";
import type { Readiness } from "./readiness.js";

/** Socket and request deadlines, so slow or stalled clients cannot hold the server's resources (issue 9 item 5). */
export interface HttpTimeouts {
  /** The whole request, headers and body, must arrive within this (Node's requestTimeout; 408 otherwise). */
  requestTimeoutMs: number;
  /** The request headers must arrive within this. */
  headersTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed. */
  idleTimeoutMs: number;
  /** How long a kept-alive socket waits for the next request. */
  keepAliveTimeoutMs: number;
}

/** A 60 s clip streamed in real time fits the request deadline with room to spare. */
export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

export interface HttpDeps {
  bus: Bus;
  health: BusHealth;
  readiness: Readiness;
  limits: CaptureLimits;
  logger: Logger;
  /** Seconds a client should wait before retrying a 503. */
  retryAfterS: number;
  /**
   * Uploads published at once; more are refused with BACKPRESSURE instead of piling up in memory. A slot is
   * taken once the body has arrived, so clients still sending cannot hold the slots (the deadlines cut them).
   */
  maxInFlight: number;
  timeouts?: Partial<HttpTimeouts>;
}

export const AUDIO_ROUTE = "/v1/audio";

/** The query string of `POST /v1/audio`: which microphone, which room. */
export const CaptureQuerySchema = Type.Object({
  device: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  transcript: Type.Optional(Type.String()),
});
export type CaptureQuery = Static<typeof CaptureQuerySchema>;

/**
 * `POST /v1/audio?device=<id>&room=<room>` (or `source=<id>`) with the audio as the body answers 202 and the
 * event id; `GET /healthz` (alive) and `GET /readyz` (bus and worker). Every error is an ErrorPayload JSON with
 * a catalogue code; 503s carry Retry-After, because the clip was not stored and the client should send it again.
 */
export function createHttpApp(deps: HttpDeps): FastifyInstance {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const app = Fastify({
    logger: false,
    bodyLimit: deps.limits.maxBytes,
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.idleTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs),
      // Node checks the two deadlines above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1_000, Math.floor(Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 4)),
      ),
    },
  })
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();
  let inFlight = 0;

  // Audio is the body whatever its declared type; the bytes decide what it is.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) =>
    refuse(req, reply, deps, asSpeakersError(err, deps)),
  );
  app.setNotFoundHandler((req, reply) =>
    refuse(
      req,
      reply,
      deps,
      new SpeakersError(
        "INVALID_REQUEST",
        `No route ${req.url.split("?")[0]}; POST audio to ${AUDIO_ROUTE}.`,
      ),
      404,
    ),
  );

  app.get("/healthz", async () => ({ status: "ok", bus: deps.health.up ? "up" : "down" }));
  app.get("/readyz", async (_req, reply) => {
    const state = await deps.readiness.check();
    return reply.code(state.ready ? 200 : 503).send(state.body);
  });

  app.route({
    method: ["GET", "PUT", "PATCH", "DELETE"],
    url: AUDIO_ROUTE,
    handler: (req, reply) =>
      refuse(
        req,
        reply.header("Allow", "POST"),
        deps,
        new SpeakersError("INVALID_REQUEST", `Use POST for ${AUDIO_ROUTE}.`),
        405,
      ),
  });

  app.post(AUDIO_ROUTE, {
    schema: { querystring: CaptureQuerySchema },
    // Refuse before reading megabytes that could not be stored anyway.
    onRequest: async () => {
      deps.health.assertUp();
      if (inFlight >= deps.maxInFlight) throw busy(inFlight);
    },
    preHandler: async (_req, reply) => {
      if (inFlight >= deps.maxInFlight) throw busy(inFlight);
      inFlight++;
      // Fires once the response is sent or the connection dies, whichever comes first.
      reply.raw.once("close", () => {
        inFlight--;
      });
    },
    handler: async (req, reply) => {
      const { device, source, room } = req.query;
      const deviceId = device ?? source;
      if (!deviceId) {
        throw new SpeakersError("INVALID_REQUEST", "Name the microphone: ?device=<id> (or ?source=<id>).", {
          hint: `POST ${AUDIO_ROUTE}?device=kitchen-satellite&room=kitchen with the audio as the body.`,
        });
      }
      const bytes = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
      const transcript = headerText(req.headers["x-transcript"]) ?? req.query.transcript;
      const published = await publishAudio(
        deps.bus,
        {
          bytes,
          contentType: req.headers["content-type"] ?? "",
          deviceId,
          ...(room ? { room } : {}),
          ...(transcript === undefined ? {} : { transcript }),
          // When both are given, `device` names the microphone and `source` is kept as a tag.
          ...(source && device && source !== deviceId ? { tags: { source } } : {}),
        },
        { limits: deps.limits, health: deps.health },
      );
      deps.logger.info(
        {
          eventId: published.id,
          subject: published.subject,
          bytes: bytes.length,
          audio: published.event.audio.kind,
        },
        "captured",
      );
      return reply.code(202).send({
        id: published.id,
        subject: published.subject,
        seq: published.seq,
        duplicate: published.duplicate,
        audio: published.event.audio,
        format: published.event.format,
        ...(published.event.durationMs === undefined ? {} : { durationMs: published.event.durationMs }),
      });
    },
  });
  return app;
}

function busy(inFlight: number): SpeakersError {
  return new SpeakersError("BACKPRESSURE", `${inFlight} uploads are in progress.`);
}

/** Fastify's own errors (body limit, query validation, a broken-off upload) in the catalogue's terms. */
function asSpeakersError(err: FastifyError, deps: HttpDeps): unknown {
  if (isSpeakersError(err)) return err;
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new SpeakersError(
      "AUDIO_TOO_LONG",
      `The upload is larger than the limit of ${deps.limits.maxBytes} bytes.`,
      {
        details: { maxBytes: deps.limits.maxBytes },
        hint: "Split the recording into shorter clips.",
      },
    );
  }
  if (err.validation) {
    return new SpeakersError("INVALID_REQUEST", `The query string is invalid: ${err.message}`, {
      hint: `POST ${AUDIO_ROUTE}?device=kitchen-satellite&room=kitchen with the audio as the body.`,
    });
  }
  if (err.code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH" || err.code === "ECONNRESET") {
    return new SpeakersError("AUDIO_TRUNCATED", `The upload broke off: ${err.message}`, { cause: err });
  }
  if (typeof err.statusCode === "number" && err.statusCode < 500) {
    return new SpeakersError("INVALID_REQUEST", err.message, { cause: err });
  }
  return err;
}

/**
 * Header values arrive as latin1; a client sending UTF-8 bytes gets them back here, and a percent-encoded
 * transcript (the portable way to send non-ASCII in a header) is decoded.
 */
function headerText(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value.join(" ") : value;
  if (raw === undefined || raw === "") return undefined;
  const text = Buffer.from(raw, "latin1").toString("utf8");
  if (!/%[0-9a-f]{2}/i.test(text)) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function refuse(req: FastifyRequest, reply: FastifyReply, deps: HttpDeps, err: unknown, status?: number) {
  const payload = toErrorPayload(err);
  const code = status ?? (isSpeakersError(err) ? err.status : 500);
  if (code === 503) reply.header("Retry-After", String(deps.retryAfterS));
  if (code >= 500) deps.logger.warn({ err, code: payload.code }, "upload refused");
  else deps.logger.info({ code: payload.code, reason: payload.message }, "upload rejected");
  // An unread body would be parsed as the next request on a kept-alive connection; drop the connection instead.
  if (!req.raw.complete) reply.header("Connection", "close");
  return reply.code(code).type("application/json").send(payload);
}
