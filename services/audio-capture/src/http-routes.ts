import type { IncomingMessage, ServerResponse } from "node:http";
import type { Bus, Logger } from "@speakers/bus";
import { isSpeakersError, SpeakersError, toErrorPayload } from "@speakers/events";
import type { BusHealth } from "./bus-health.js";
import { type CaptureLimits, publishAudio } from "./publish-audio.js";

export interface HttpDeps {
  bus: Bus;
  health: BusHealth;
  limits: CaptureLimits;
  logger: Logger;
  /** Seconds a client should wait before retrying a 503. */
  retryAfterS: number;
  /** Uploads handled at once; more are refused with BACKPRESSURE instead of piling up in memory. */
  maxInFlight: number;
}

export const AUDIO_ROUTE = "/v1/audio";

/**
 * `POST /v1/audio?device=<id>&room=<room>` (or `source=<id>`) with the audio as the body answers 202 and the
 * event id; `GET /healthz` (alive) and `GET /readyz` (bus reachable). Every error is an ErrorPayload JSON with a
 * catalogue code; 503s carry Retry-After, because the clip was not stored and the client should send it again.
 */
export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  let inFlight = 0;
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://capture.local");
    if (url.pathname === "/healthz" || url.pathname === "/readyz") {
      const ready = url.pathname === "/healthz" || deps.health.up;
      sendJson(res, ready ? 200 : 503, {
        status: ready ? "ok" : "unavailable",
        bus: deps.health.up ? "up" : "down",
      });
      req.resume();
      return;
    }
    if (url.pathname !== AUDIO_ROUTE) {
      refuse(
        req,
        res,
        deps,
        404,
        new SpeakersError("INVALID_REQUEST", `No route ${url.pathname}; POST audio to ${AUDIO_ROUTE}.`),
      );
      return;
    }
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      refuse(req, res, deps, 405, new SpeakersError("INVALID_REQUEST", `Use POST for ${AUDIO_ROUTE}.`));
      return;
    }
    if (inFlight >= deps.maxInFlight) {
      refuse(
        req,
        res,
        deps,
        undefined,
        new SpeakersError("BACKPRESSURE", `${inFlight} uploads are in progress.`),
      );
      return;
    }
    inFlight++;
    void handleUpload(req, res, url, deps).finally(() => {
      inFlight--;
    });
  };
}

async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: HttpDeps,
): Promise<void> {
  try {
    const params = url.searchParams;
    const deviceId = params.get("device") ?? params.get("source");
    if (!deviceId) {
      throw new SpeakersError("INVALID_REQUEST", "Name the microphone: ?device=<id> (or ?source=<id>).", {
        hint: `POST ${AUDIO_ROUTE}?device=kitchen-satellite&room=kitchen with the audio as the body.`,
      });
    }
    // Refuse before reading megabytes that could not be stored anyway.
    deps.health.assertUp();
    const declaredLength = Number(req.headers["content-length"] ?? Number.NaN);
    if (declaredLength > deps.limits.maxBytes) throw tooLarge(declaredLength, deps.limits.maxBytes);
    const bytes = await readBody(req, deps.limits.maxBytes);
    const room = params.get("room");
    const source = params.get("source");
    const transcript = headerText(req.headers["x-transcript"]) ?? params.get("transcript") ?? undefined;
    const published = await publishAudio(
      deps.bus,
      {
        bytes,
        contentType: req.headers["content-type"] ?? "",
        deviceId,
        ...(room ? { room } : {}),
        ...(transcript === undefined ? {} : { transcript }),
        // When both are given, `device` names the microphone and `source` is kept as a tag.
        ...(source && params.get("device") && source !== deviceId ? { tags: { source } } : {}),
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
    sendJson(res, 202, {
      id: published.id,
      subject: published.subject,
      seq: published.seq,
      duplicate: published.duplicate,
      audio: published.event.audio,
      format: published.event.format,
      ...(published.event.durationMs === undefined ? {} : { durationMs: published.event.durationMs }),
    });
  } catch (err) {
    refuse(req, res, deps, undefined, err);
  }
}

function tooLarge(bytes: number, maxBytes: number): SpeakersError {
  return new SpeakersError("AUDIO_TOO_LONG", `The upload has ${bytes} bytes; the limit is ${maxBytes}.`, {
    details: { bytes, maxBytes },
  });
}

/** The body, or AUDIO_TOO_LONG as soon as it passes the limit (chunked uploads have no Content-Length). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(size, maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.once("error", (err) => {
      if (!failed)
        reject(new SpeakersError("AUDIO_TRUNCATED", `The upload broke off: ${err.message}`, { cause: err }));
    });
  });
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

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  deps: HttpDeps,
  status: number | undefined,
  err: unknown,
) {
  const payload = toErrorPayload(err);
  const code = status ?? (isSpeakersError(err) ? err.status : 500);
  if (code === 503) res.setHeader("Retry-After", String(deps.retryAfterS));
  if (code >= 500) deps.logger.warn({ err, code: payload.code }, "upload refused");
  else deps.logger.info({ code: payload.code, reason: payload.message }, "upload rejected");
  // An unread body would be parsed as the next request on a kept-alive connection; drop the connection instead.
  if (!req.complete) res.setHeader("Connection", "close");
  sendJson(res, code, payload);
  req.resume();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
