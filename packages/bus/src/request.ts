import { errors, type Msg, type MsgHdrs, headers as natsHeaders, RequestError } from "@nats-io/nats-core";
import {
  decodeJson,
  type EndpointDefinition,
  ERRORS,
  type ErrorCode,
  ErrorPayloadMessage,
  encodeJson,
  encodeMeta,
  fromErrorPayload,
  HEADERS,
  isErrorCode,
  type MessageDefinition,
  type PayloadOf,
  SpeakersError,
} from "@speakers/events";
import { type Bus, errorText } from "./connect.js";

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Default 10 s. */
  timeoutMs?: number;
  /** The code when nobody serves the subject (default WORKER_UNAVAILABLE). */
  unavailableCode?: ErrorCode;
}

/**
 * A request to a micro service endpoint. A service error reply (ADR 0001: Nats-Service-Error-Code and an
 * ErrorPayload body) is thrown as the SpeakersError it describes; no responders and timeouts become typed codes.
 */
export async function request(
  bus: Pick<Bus, "nc">,
  subject: string,
  body: Uint8Array | string | undefined,
  options: RequestOptions = {},
): Promise<Msg> {
  const timeout = options.timeoutMs ?? 10_000;
  let reply: Msg;
  try {
    reply = await bus.nc.request(subject, body, {
      timeout,
      ...(options.headers ? { headers: toHeaders(options.headers) } : {}),
    });
  } catch (err) {
    throw transportError(err, subject, timeout, options.unavailableCode ?? "WORKER_UNAVAILABLE");
  }
  const failure = serviceError(reply);
  if (failure) throw failure;
  return reply;
}

export interface CallOptions<Req extends MessageDefinition, Rep extends MessageDefinition>
  extends RequestOptions {
  request: Req;
  payload: PayloadOf<Req>;
  /** Audio bytes when the request definition's body is audio (its payload then travels in Speakers-Meta). */
  body?: Uint8Array;
  reply: Rep;
}

/** `call` to an endpoint of the contract's tables, with the subject, request and reply it declares. */
export function callEndpoint<Req extends MessageDefinition, Rep extends MessageDefinition>(
  bus: Pick<Bus, "nc">,
  endpoint: EndpointDefinition<Req, Rep>,
  options: Omit<CallOptions<Req, Rep>, "request" | "reply">,
): Promise<PayloadOf<Rep>> {
  return call(bus, endpoint.subject, { ...options, request: endpoint.request, reply: endpoint.reply });
}

/** A typed request: the payload is validated and encoded by its definition, the reply decoded and validated. */
export async function call<Req extends MessageDefinition, Rep extends MessageDefinition>(
  bus: Pick<Bus, "nc">,
  subject: string,
  options: CallOptions<Req, Rep>,
): Promise<PayloadOf<Rep>> {
  const { request: reqDef, payload, reply: repDef, body, ...rest } = options;
  let data: Uint8Array;
  const headers = { ...rest.headers };
  if (reqDef.body === "audio") {
    headers[HEADERS.meta] = encodeMeta(reqDef, payload);
    data = body ?? new Uint8Array(0);
  } else {
    data = encodeJson(reqDef, payload);
  }
  const reply = await request(bus, subject, data, { ...rest, headers });
  try {
    return decodeJson(repDef, reply.data);
  } catch (err) {
    // A reply that breaks its contract is the service's bug, not the caller's.
    throw new SpeakersError("INTERNAL", `reply from ${subject} is invalid: ${errorText(err)}`, {
      cause: err,
    });
  }
}

/** The SpeakersError a service error reply carries, or undefined for a normal reply. */
export function serviceError(reply: Msg): SpeakersError | undefined {
  const status = reply.headers?.get(HEADERS.serviceErrorCode);
  if (!status) return undefined;
  try {
    return fromErrorPayload(decodeJson(ErrorPayloadMessage, reply.data));
  } catch {
    // No ErrorPayload body (a service not written against ADR 0001): use the `<CODE>: <message>` header.
    const header = reply.headers?.get(HEADERS.serviceError) ?? "";
    const [maybeCode, ...rest] = header.split(": ");
    if (isErrorCode(maybeCode) && rest.length > 0) return new SpeakersError(maybeCode, rest.join(": "));
    return new SpeakersError(codeForStatus(Number(status)), header || `service error ${status}`, {
      details: { status: Number(status) },
    });
  }
}

function codeForStatus(status: number): ErrorCode {
  if (status === 503) return "WORKER_UNAVAILABLE";
  if (status === 504) return "TIMEOUT";
  if (status >= 400 && status < 500) return "INVALID_REQUEST";
  return "INTERNAL";
}

function transportError(
  err: unknown,
  subject: string,
  timeout: number,
  unavailable: ErrorCode,
): SpeakersError {
  if (err instanceof RequestError && err.isNoResponders()) {
    return new SpeakersError(unavailable, `${ERRORS[unavailable].message} (nobody serves ${subject})`, {
      cause: err,
      details: { subject },
    });
  }
  if (err instanceof errors.TimeoutError) {
    return new SpeakersError("TIMEOUT", `no reply from ${subject} within ${timeout} ms`, {
      cause: err,
      details: { subject, timeoutMs: timeout },
    });
  }
  if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) {
    return new SpeakersError("BUS_UNAVAILABLE", `connection closed: ${errorText(err)}`, { cause: err });
  }
  return new SpeakersError("INTERNAL", `request to ${subject} failed: ${errorText(err)}`, { cause: err });
}

export function toHeaders(record: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(record)) h.set(key, value);
  return h;
}
