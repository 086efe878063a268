import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { type EventDefinition, type PayloadOf, SpeakersError } from "@speakers/events";
import type { Bus } from "./connect.js";
import { errorText } from "./connect.js";
import { decodeEvent } from "./contract.js";
import { deadLetter } from "./dead-letter.js";
import { type EventMeta, eventMeta } from "./event-meta.js";
import { backoffDelay, errorCode, isPermanent } from "./failure.js";
import { eventLogger, type Logger } from "./logger.js";
import { type ConsumerSpec, ensureConsumer } from "./provision.js";

export interface Delivery<D extends EventDefinition = EventDefinition> {
  def: D;
  /** The validated payload: the JSON body, or the `Speakers-Meta` header of an audio event. */
  data: PayloadOf<D>;
  /** The raw body: audio bytes for audio events, the JSON bytes otherwise. */
  body: Uint8Array;
  meta: EventMeta;
  /** Carries eventId and correlationId. */
  logger: Logger;
}

/** One Delivery per definition, so `isEvent(d, X)` narrows `d.data` to X's payload. */
export type DeliveryOf<D extends EventDefinition> = D extends EventDefinition ? Delivery<D> : never;

export function isEvent<D extends EventDefinition>(delivery: Delivery, def: D): delivery is Delivery<D> {
  return delivery.def.typeId === def.typeId;
}

export interface ConsumeOptions<D extends EventDefinition> {
  stream: string;
  durable: string;
  /** The event types this consumer accepts; any other ce-type is dead-lettered. */
  defs: readonly D[];
  /** Resolves when the event was handled (and its outputs published); throwing naks or dead-letters it. */
  handler: (delivery: DeliveryOf<D>) => unknown | Promise<unknown>;
  /** Deliveries before a failing message is dead-lettered (default 5, capped by the consumer's max_deliver). */
  maxDeliver?: number;
  /** First redelivery delay; doubles per delivery (default 1 s). */
  backoffMs?: number;
  /** Longest redelivery delay (default 60 s). */
  maxBackoffMs?: number;
  logger?: Logger;
  /** Create or update the durable consumer first (plugins declare theirs here); otherwise it must exist. */
  create?: Omit<ConsumerSpec, "stream" | "durable">;
  /** Messages pulled ahead of the handler (default 10). */
  prefetch?: number;
}

export interface ConsumeHandle {
  /** Stops pulling, lets the current handler finish, and resolves when the loop ended. */
  stop(): Promise<void>;
  /** Resolves when the loop ends (after stop, or when the consumer is deleted). */
  readonly done: Promise<void>;
}

/**
 * Pulls from a durable consumer one message at a time: decode and validate, run the handler, ack after it
 * succeeded. A transient failure naks with exponential backoff; invalid input, a permanent failure, or the last
 * allowed delivery goes to `deadletter.<subject>` with the reason and is terminated, so nothing is dropped
 * silently and nothing is redelivered forever.
 */
export async function consume<D extends EventDefinition>(
  bus: Bus,
  options: ConsumeOptions<D>,
): Promise<ConsumeHandle> {
  const logger = (options.logger ?? bus.logger).child({ stream: options.stream, consumer: options.durable });
  if (options.create)
    await ensureConsumer(bus, { ...options.create, stream: options.stream, durable: options.durable });
  let consumer: Consumer;
  try {
    consumer = await bus.js.consumers.get(options.stream, options.durable);
  } catch (err) {
    throw new SpeakersError(
      "BUS_UNAVAILABLE",
      `consumer ${options.durable} on stream ${options.stream} is not available (run provision first): ${errorText(err)}`,
      { cause: err },
    );
  }
  const info = await consumer.info(true);
  const serverMax = info.config.max_deliver ?? -1;
  const wanted = options.maxDeliver ?? 5;
  // Past the server's max_deliver the message is never delivered again, so we must dead-letter before it.
  const maxDeliver = serverMax > 0 ? Math.min(wanted, serverMax) : wanted;
  const ackWaitMs = Math.max(1_000, (info.config.ack_wait ?? 30e9) / 1e6);
  const settings: Settings<D> = {
    bus,
    logger,
    defs: options.defs,
    handler: options.handler,
    consumerName: options.durable,
    maxDeliver,
    ackWaitMs,
    backoffMs: options.backoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
  };

  const messages = await consumer.consume({ max_messages: options.prefetch ?? 10 });
  void (async () => {
    for await (const s of messages.status()) {
      if (
        s.type === "heartbeats_missed" ||
        s.type === "consumer_not_found" ||
        s.type === "stream_not_found"
      ) {
        logger.warn({ status: s }, "consumer status");
      }
    }
  })().catch(() => {});
  const done = (async () => {
    try {
      for await (const msg of messages) await handleOne(settings, msg);
    } catch (err) {
      // The iterator fails when the consumer or stream is deleted; report it rather than reject unobserved.
      logger.error({ err }, "consumer stopped");
    }
  })();
  logger.info({ maxDeliver }, "consuming");
  return {
    done,
    async stop() {
      await messages.close();
      await done;
    },
  };
}

interface Settings<D extends EventDefinition> {
  bus: Bus;
  logger: Logger;
  defs: readonly D[];
  handler: ConsumeOptions<D>["handler"];
  consumerName: string;
  maxDeliver: number;
  ackWaitMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

async function handleOne<D extends EventDefinition>(s: Settings<D>, msg: JsMsg): Promise<void> {
  const meta = eventMeta(msg);
  const log = eventLogger(s.logger, { eventId: meta.id, correlationId: meta.correlationId }).child({
    type: meta.type,
    subject: meta.subject,
    seq: meta.seq,
    deliveryCount: meta.deliveryCount,
  });
  const decoded = decodeEvent(s.defs, msg, meta);
  if (!decoded.ok) {
    await sendToDeadLetter(s, msg, log, decoded.error);
    return;
  }
  // Long handlers (model inference) would otherwise be redelivered to another worker mid-flight.
  const keepAlive = setInterval(() => msg.working(), s.ackWaitMs / 2);
  try {
    await s.handler({
      def: decoded.def,
      data: decoded.data,
      body: msg.data,
      meta,
      logger: log,
    } as DeliveryOf<D>);
    msg.ack();
    log.debug("handled");
  } catch (err) {
    if (isPermanent(err) || meta.deliveryCount >= s.maxDeliver) {
      const reason = isPermanent(err)
        ? `handler failed permanently: ${errorText(err)}`
        : `handler failed ${meta.deliveryCount} times: ${errorText(err)}`;
      await sendToDeadLetter(s, msg, log, new SpeakersError(errorCode(err), reason, { cause: err }));
    } else {
      const delay = backoffDelay(meta.deliveryCount, s.backoffMs, s.maxBackoffMs);
      log.warn({ err, retryInMs: delay }, "handler failed, will retry");
      msg.nak(delay);
    }
  } finally {
    clearInterval(keepAlive);
  }
}

async function sendToDeadLetter<D extends EventDefinition>(
  s: Settings<D>,
  msg: JsMsg,
  log: Logger,
  error: SpeakersError,
): Promise<void> {
  try {
    const seq = await deadLetter(s.bus, msg, {
      code: error.code,
      reason: error.message,
      consumer: s.consumerName,
    });
    msg.term(error.message.slice(0, 200));
    log.error({ code: error.code, reason: error.message, deadLetterSeq: seq }, "dead-lettered");
  } catch (err) {
    // Without a dead letter the message must stay in the stream: redeliver it later rather than lose it.
    const delay = backoffDelay(msg.info.deliveryCount, s.backoffMs, s.maxBackoffMs);
    log.error({ err, code: error.code, retryInMs: delay }, "dead-letter publish failed; message kept");
    msg.nak(delay);
  }
}
