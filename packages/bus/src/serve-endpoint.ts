import type { QueuedIterator } from "@nats-io/nats-core";
import {
  type Service,
  type ServiceConfig,
  type ServiceGroup,
  type ServiceMsg,
  Svcm,
} from "@nats-io/services";
import {
  ERRORS,
  encodeJson,
  HEADERS,
  isSpeakersError,
  type MessageDefinition,
  type PayloadOf,
  SpeakersError,
  serviceErrorHeader,
  toErrorPayload,
} from "@speakers/events";
import { type Bus, errorText } from "./connect.js";
import { decodePayload } from "./contract.js";
import { headerRecord } from "./event-meta.js";
import type { Logger } from "./logger.js";

/** Starts an ADR-32 micro service (PING/INFO/STATS come with it); add endpoints with serveEndpoint. */
export async function addService(bus: Bus, config: ServiceConfig): Promise<Service> {
  // @nats-io/services 3.0.0-25 is typed against an older nats-core; the connection is the same at runtime.
  return new Svcm(bus.nc as unknown as ConstructorParameters<typeof Svcm>[0]).add(config);
}

export interface EndpointRequest<Req extends MessageDefinition | undefined> {
  /** The validated request payload (JSON body, or Speakers-Meta when the request carries audio). */
  data: Req extends MessageDefinition ? PayloadOf<Req> : undefined;
  /** The raw body: audio bytes for audio requests. */
  body: Uint8Array;
  headers: Record<string, string>;
  msg: ServiceMsg;
}

type ReplyOf<Rep extends MessageDefinition | undefined> = Rep extends MessageDefinition
  ? PayloadOf<Rep>
  : Uint8Array | string | object;

export interface EndpointSpec<
  Req extends MessageDefinition | undefined,
  Rep extends MessageDefinition | undefined,
> {
  /** Validates the request; without one the handler gets the raw body only. */
  request?: Req;
  /** Validates and encodes the reply; without one an object is sent as JSON and bytes as they are. */
  reply?: Rep;
  /** Full subject; default `<group prefix>.<name>`. */
  subject?: string;
  /** Queue group; default the service's. */
  queue?: string;
  metadata?: Record<string, string>;
  logger?: Logger;
  handler: (req: EndpointRequest<Req>) => ReplyOf<Rep> | Promise<ReplyOf<Rep>>;
}

/**
 * One endpoint whose handler deals in validated payloads. Whatever it throws is answered per ADR 0001:
 * `Nats-Service-Error-Code` (status), `Nats-Service-Error` (`<CODE>: <message>`) and an ErrorPayload body;
 * an unexpected error becomes INTERNAL and is logged, and the service keeps serving.
 */
export function serveEndpoint<
  Req extends MessageDefinition | undefined = undefined,
  Rep extends MessageDefinition | undefined = undefined,
>(bus: Bus, group: ServiceGroup, name: string, spec: EndpointSpec<Req, Rep>): QueuedIterator<ServiceMsg> {
  const logger = (spec.logger ?? bus.logger).child({ endpoint: name });
  const respond = async (msg: ServiceMsg): Promise<void> => {
    try {
      const data = spec.request
        ? decodePayload(spec.request, msg.data, msg.headers?.get(HEADERS.meta) || undefined)
        : undefined;
      const result = await spec.handler({
        data: data as EndpointRequest<Req>["data"],
        body: msg.data,
        headers: headerRecord(msg.headers),
        msg,
      });
      let reply: Uint8Array | string;
      try {
        reply = encodeReply(spec.reply, result);
      } catch (err) {
        // A reply that breaks its own contract is this service's bug, never the caller's bad request.
        throw new SpeakersError("INTERNAL", `${name} built an invalid reply: ${errorText(err)}`, {
          cause: err,
        });
      }
      msg.respond(reply);
    } catch (err) {
      const payload = toErrorPayload(err);
      if (isSpeakersError(err) && err.status < 500) logger.info({ code: payload.code }, payload.message);
      else logger.error({ err, code: payload.code }, "endpoint failed");
      msg.respondError(
        ERRORS[payload.code].status,
        serviceErrorHeader(payload),
        new TextEncoder().encode(JSON.stringify(payload)),
      );
    }
  };
  return group.addEndpoint(name, {
    handler: (err, msg) => {
      if (err) {
        logger.error({ err }, "endpoint subscription failed");
        return;
      }
      void respond(msg);
    },
    ...(spec.subject === undefined ? {} : { subject: spec.subject }),
    ...(spec.queue === undefined ? {} : { queue: spec.queue }),
    ...(spec.metadata === undefined ? {} : { metadata: spec.metadata }),
  });
}

function encodeReply(def: MessageDefinition | undefined, result: unknown): Uint8Array | string {
  if (def) return encodeJson(def, result as PayloadOf<typeof def>);
  if (result instanceof Uint8Array || typeof result === "string") return result;
  return new TextEncoder().encode(JSON.stringify(result ?? null));
}
