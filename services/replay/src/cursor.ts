/**
 * Where a replay stands: the durable consumer `replay-<model token>` on AUDIO. It starts at `since` (a time or
 * a stream sequence) and keeps its place, so an interrupted replay resumes where it stopped.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { Bus } from "@speakers/bus";
import { AudioCaptured, replayConsumerName, SpeakersError, STREAMS } from "@speakers/events";

/** A point in the AUDIO history: a time, or a stream sequence (1 is the first message ever stored). */
export type Since = { time: Date } | { seq: number };

/** `--since`: an integer is a stream sequence, anything else an ISO 8601 time. */
export function parseSince(text: string): Since {
  const trimmed = text.trim();
  if (/^[0-9]+$/.test(trimmed)) {
    const seq = Number(trimmed);
    if (seq >= 1 && Number.isSafeInteger(seq)) return { seq };
  } else if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(trimmed)) {
    // Only ISO 8601 dates: Date() alone also reads "0" or "-3" as years.
    const time = new Date(trimmed);
    if (!Number.isNaN(time.getTime())) return { time };
  }
  throw new SpeakersError("INVALID_REQUEST", `--since "${text}" is neither a time nor a stream sequence.`, {
    hint: "Give an ISO 8601 time (2026-11-01 or 2026-11-01T08:00:00Z) or an AUDIO stream sequence (1, 5000).",
  });
}

/** One clip can take a while on a busy CPU worker; the replay extends nothing, so the wait is generous. */
const ACK_WAIT_MS = 10 * 60_000;

export interface CursorOptions {
  since?: Since;
  /** Forget an earlier replay of this model and start again. */
  restart?: boolean;
}

/** Opens (or creates) the replay's durable consumer; returns its name and what it still has to deliver. */
export async function openCursor(
  bus: Bus,
  model: { id: string; revision: string },
  options: CursorOptions,
): Promise<ConsumerInfo> {
  const stream = STREAMS.AUDIO.name;
  const durable = replayConsumerName(model);
  let existing = await consumerInfo(bus, stream, durable);
  if (existing !== undefined && options.restart) {
    await bus.jsm.consumers.delete(stream, durable);
    existing = undefined;
  }
  if (existing !== undefined) {
    if (options.since !== undefined && !startsAt(existing.config, options.since)) {
      throw new SpeakersError(
        "CONFLICT",
        `A replay of this model started from ${describeStart(existing.config)} is unfinished.`,
        {
          hint: "Resume it without --since, or start over with --restart.",
          details: { consumer: durable },
        },
      );
    }
    return existing;
  }
  const since = options.since;
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    filter_subjects: [AudioCaptured.filter],
    ...(since === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : "seq" in since
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: since.seq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.time.toISOString() }),
  };
  return bus.jsm.consumers.add(stream, config);
}

export async function consumerInfo(
  bus: Bus,
  stream: string,
  durable: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await bus.jsm.consumers.info(stream, durable);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw err;
  }
}

function startsAt(config: ConsumerConfig, since: Since): boolean {
  if ("seq" in since)
    return config.deliver_policy === DeliverPolicy.StartSequence && config.opt_start_seq === since.seq;
  return (
    config.deliver_policy === DeliverPolicy.StartTime &&
    config.opt_start_time !== undefined &&
    new Date(config.opt_start_time).getTime() === since.time.getTime()
  );
}

export function describeStart(config: ConsumerConfig): string {
  if (config.deliver_policy === DeliverPolicy.StartSequence) return `sequence ${config.opt_start_seq}`;
  if (config.deliver_policy === DeliverPolicy.StartTime) return `${config.opt_start_time}`;
  return "the start of the AUDIO history";
}
