/** Typed calls to the registry, presence and unknown-voices services: the console's whole NATS vocabulary. */
import { randomBytes } from "node:crypto";
import { type Bus, call, callEndpoint, putClip, request } from "@speakers/bus";
import {
  type AudioEncoding,
  ClipDeleted,
  ClipRequest,
  decodeJson,
  type EndpointDefinition,
  type EnrollItem,
  INLINE_AUDIO_LIMIT_BYTES,
  LastHeardList,
  LastHeardRequest,
  type MessageDefinition,
  NameClipReply,
  NameClipRequest,
  type PayloadOf,
  REGISTRY_ENDPOINTS,
  SERVICES,
  SpeakersError,
  UnknownClipList,
} from "@speakers/events";

const endpoints = REGISTRY_ENDPOINTS;
const presence = SERVICES.presence.endpoints;
const unknown = SERVICES.unknownVoices.endpoints;
/** Embedding a sample on a small CPU while the house is busy takes a while: minutes, not seconds. */
const ENROLL_MS = 300_000;
const SHORT_MS = 15_000;

export interface SampleUpload {
  bytes: Uint8Array;
  /** Known container, or undefined to let the worker read the bytes. */
  format: AudioEncoding | undefined;
  label: string;
}

export function newEnrollmentId(): string {
  return `enr_${randomBytes(10).toString("hex")}`;
}

/** The service behind each subject prefix, to name it when nobody answers. */
const SERVICE_OF: [string, string][] = [
  [SERVICES.registry.prefix, "registry"],
  [SERVICES.presence.prefix, "presence"],
  [SERVICES.unknownVoices.prefix, "unknown-voices"],
];

/**
 * The bus calls every unanswered request WORKER_UNAVAILABLE in the embedding worker's words. When nobody
 * served the subject itself (not the worker behind the registry), the page names the service that is missing.
 */
export function naming(err: unknown): unknown {
  const subject = err instanceof SpeakersError ? err.details?.subject : undefined;
  if (!(err instanceof SpeakersError) || err.code !== "WORKER_UNAVAILABLE" || typeof subject !== "string")
    return err;
  const service = SERVICE_OF.find(([prefix]) => subject.startsWith(`${prefix}.`))?.[1];
  if (service === undefined) return err;
  return new SpeakersError(
    "WORKER_UNAVAILABLE",
    `The ${service} service is not running (nobody serves ${subject}).`,
    {
      hint: "Start it (pnpm start runs the registry and the plugins), then reload the page.",
      details: { subject },
      cause: err,
    },
  );
}

function rawClient(bus: Bus) {
  /** A large sample goes through the Object Store (the registry owns and deletes it), a small one inline. */
  const enrollItem = async (
    sample: SampleUpload,
    enrollmentId: string,
  ): Promise<{ item: EnrollItem; body: Uint8Array }> => {
    const described = { label: sample.label, ...(sample.format ? { format: sample.format } : {}) };
    if (sample.bytes.length <= INLINE_AUDIO_LIMIT_BYTES) {
      return { item: { length: sample.bytes.length, ...described }, body: sample.bytes };
    }
    const ref = await putClip(bus, `uploads/${enrollmentId}/${randomBytes(6).toString("hex")}`, sample.bytes);
    return {
      item: { length: 0, clip: { bucket: ref.bucket, name: ref.name }, ...described },
      body: new Uint8Array(0),
    };
  };

  const ask = <Req extends MessageDefinition, Rep extends MessageDefinition>(
    e: EndpointDefinition<Req, Rep>,
    payload: PayloadOf<Req>,
    timeoutMs = SHORT_MS,
  ) => callEndpoint(bus, e, { payload, timeoutMs });
  /** `enroll` or `samples.add` with one uploaded sample (inline, or through the Object Store when large). */
  const sendSample = async <Req extends MessageDefinition, Rep extends MessageDefinition>(
    e: EndpointDefinition<Req, Rep>,
    sample: SampleUpload,
    payload: (items: EnrollItem[], enrollmentId: string) => PayloadOf<Req>,
  ) => {
    const enrollmentId = newEnrollmentId();
    const { item, body } = await enrollItem(sample, enrollmentId);
    return callEndpoint(bus, e, { payload: payload([item], enrollmentId), body, timeoutMs: ENROLL_MS });
  };

  return {
    listSpeakers: () => ask(endpoints.list, { limit: 1000 }),
    getSpeaker: (speakerId: string, includeEmbeddings = false) =>
      ask(endpoints.get, { speakerId, includeEmbeddings }),
    rename: (speakerId: string, name: string) => ask(endpoints.rename, { speakerId, name }),
    erase: (speakerId: string) => ask(endpoints.delete, { speakerId }, ENROLL_MS),
    enroll: (name: string, sample: SampleUpload) =>
      sendSample(endpoints.enroll, sample, (items, enrollmentId) => ({ name, items, enrollmentId })),
    addSample: (speakerId: string, sample: SampleUpload) =>
      sendSample(endpoints.samplesAdd, sample, (items, enrollmentId) => ({ speakerId, items, enrollmentId })),
    lastHeard: () =>
      call(bus, presence.lastHeard, {
        request: LastHeardRequest,
        payload: {},
        reply: LastHeardList,
        timeoutMs: SHORT_MS,
        unavailableCode: "WORKER_UNAVAILABLE",
      }),
    /** `list` takes no request payload. */
    async unknownClips() {
      const msg = await request(bus, unknown.list, undefined, { timeoutMs: SHORT_MS });
      return decodeJson(UnknownClipList, msg.data);
    },
    async unknownAudio(clipId: string): Promise<Uint8Array> {
      const msg = await request(bus, unknown.audio, JSON.stringify({ clipId } satisfies ClipRequest), {
        timeoutMs: SHORT_MS,
      });
      return msg.data;
    },
    nameClip: (clipId: string, name: string) =>
      call(bus, unknown.name, {
        request: NameClipRequest,
        payload: { clipId, name },
        reply: NameClipReply,
        timeoutMs: ENROLL_MS,
      }),
    deleteClip: (clipId: string) =>
      call(bus, unknown.delete, {
        request: ClipRequest,
        payload: { clipId },
        reply: ClipDeleted,
        timeoutMs: SHORT_MS,
      }),
  };
}

type RawClient = ReturnType<typeof rawClient>;

/** Every call, with an unanswered service named by `naming`. */
export function householdClient(bus: Bus): RawClient {
  const raw = rawClient(bus);
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(raw) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = (...args: unknown[]) =>
      fn(...args).catch((err: unknown) => {
        throw naming(err);
      });
  }
  return wrapped as RawClient;
}

export type HouseholdClient = RawClient;
