/** Typed calls to the `registry` micro service, as every CLI command makes them. */
import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { type Bus, type CallOptions, callEndpoint, putClip } from "@speakers/bus";
import {
  type AdaptationReply,
  type AdaptationRequest,
  type AudioEncoding,
  type CalibrateRequest,
  type CalibrationReply,
  type CohortImportRequest,
  type CohortReply,
  type DeleteReply,
  type EndpointDefinition,
  type EnrollItem,
  type EnrollReply,
  type IdentifyReply,
  type ListReply,
  type MessageDefinition,
  type ModelRef,
  type ModelUseReply,
  type PayloadOf,
  REGISTRY_ENDPOINTS,
  type SpeakerDetail,
  type SpeakerSummary,
  SpeakersError,
  type VerifyReply,
} from "@speakers/events";
import { formatOf, readAudioFile } from "./audio-files.js";

const ep = REGISTRY_ENDPOINTS;
/** Enrollment embeds every sample on a small CPU: allow minutes, not seconds. */
const LONG_MS = 600_000;
const SHORT_MS = 30_000;

export function newEnrollmentId(): string {
  return `enr_${randomBytes(10).toString("hex")}`;
}

export interface RegistryClient {
  enrollFiles(
    name: string,
    files: readonly string[],
    options?: { createOnly?: boolean; enrollmentId?: string },
  ): Promise<EnrollReply>;
  identifyFile(file: string, topK?: number): Promise<IdentifyReply>;
  identifyPath(
    path: string,
    topK?: number,
    options?: { excludeSpeakers?: readonly string[] },
  ): Promise<IdentifyReply>;
  calibration(model?: ModelRef): Promise<CalibrationReply>;
  calibrate(request?: CalibrateRequest): Promise<CalibrationReply>;
  verifyFile(speakerId: string, file: string): Promise<VerifyReply>;
  list(): Promise<ListReply>;
  /** The speaker with this name (case-insensitive), or SPEAKER_NOT_FOUND. */
  byName(name: string): Promise<SpeakerSummary>;
  get(speakerId: string, includeEmbeddings?: boolean): Promise<SpeakerDetail>;
  rename(speakerId: string, name: string): Promise<SpeakerSummary>;
  remove(speakerId: string): Promise<DeleteReply>;
  /** Reports, or with `enabled` switches, opt-in voiceprint adaptation of a model. */
  adaptation(request?: AdaptationRequest): Promise<AdaptationReply>;
  /** One chunk (up to 64 vectors) of an imported cohort bank. */
  cohortImport(request: CohortImportRequest): Promise<CohortReply>;
  cohort(model?: ModelRef): Promise<CohortReply>;
  cohortClear(model?: ModelRef): Promise<CohortReply>;
  /** Makes a model (name or key) the live one, through the registry: it checks voiceprints and a worker. */
  useModel(model: string): Promise<ModelUseReply>;
}

export function registryClient(bus: Bus): RegistryClient {
  const ask = <Req extends MessageDefinition, Rep extends MessageDefinition>(
    e: EndpointDefinition<Req, Rep>,
    options: Omit<CallOptions<Req, Rep>, "request" | "reply">,
  ): Promise<PayloadOf<Rep>> => callEndpoint(bus, e, options);
  /** An audio file as the body of a request whose payload names its format when the file name tells it. */
  const askWithFile = async <Req extends MessageDefinition, Rep extends MessageDefinition>(
    e: EndpointDefinition<Req, Rep>,
    file: string,
    payload: (format: { format?: AudioEncoding }) => PayloadOf<Req>,
  ): Promise<PayloadOf<Rep>> => {
    const bytes = await readAudioFile(file);
    const format = formatOf(file);
    return ask(e, {
      payload: payload(format === undefined ? {} : { format }),
      body: bytes,
      timeoutMs: LONG_MS,
    });
  };
  return {
    /** Files travel through the Object Store, so a long recording never hits the server's payload limit. */
    async enrollFiles(name, files, options = {}) {
      const enrollmentId = options.enrollmentId ?? newEnrollmentId();
      const items: EnrollItem[] = [];
      for (const [index, file] of files.entries()) {
        const bytes = await readAudioFile(file);
        const format = formatOf(file);
        const ref = await putClip(bus, `uploads/${enrollmentId}/${index}-${basename(file)}`, bytes);
        items.push({
          length: 0,
          clip: { bucket: ref.bucket, name: ref.name },
          label: basename(file),
          ...(format === undefined ? {} : { format }),
        });
      }
      return ask(ep.enroll, {
        payload: { name, items, enrollmentId, ...(options.createOnly ? { createOnly: true } : {}) },
        timeoutMs: LONG_MS,
        unavailableCode: "WORKER_UNAVAILABLE",
      });
    },
    identifyFile: (file, topK = 5) => askWithFile(ep.identify, file, (format) => ({ topK, ...format })),
    identifyPath(path, topK = 5, options = {}) {
      const format = formatOf(path);
      const exclude = options.excludeSpeakers ?? [];
      return ask(ep.identify, {
        payload: {
          topK,
          path,
          ...(format === undefined ? {} : { format }),
          ...(exclude.length === 0 ? {} : { excludeSpeakers: [...exclude] }),
        },
        timeoutMs: LONG_MS,
      });
    },
    verifyFile: (speakerId, file) => askWithFile(ep.verify, file, (format) => ({ speakerId, ...format })),
    calibration: (model) =>
      ask(ep.calibrationGet, {
        payload: model === undefined ? {} : { model },
        timeoutMs: LONG_MS,
      }),
    calibrate: (request = {}) =>
      ask(ep.calibrate, {
        payload: request,
        timeoutMs: LONG_MS,
      }),
    adaptation: (request = {}) => ask(ep.adaptation, { payload: request, timeoutMs: SHORT_MS }),
    cohortImport: (request) => ask(ep.cohortImport, { payload: request, timeoutMs: SHORT_MS }),
    cohort: (model) =>
      ask(ep.cohortGet, { payload: model === undefined ? {} : { model }, timeoutMs: SHORT_MS }),
    cohortClear: (model) =>
      ask(ep.cohortClear, { payload: model === undefined ? {} : { model }, timeoutMs: SHORT_MS }),
    list: () =>
      ask(ep.list, {
        payload: { limit: 1000 },
        timeoutMs: SHORT_MS,
      }),
    async byName(name) {
      const found = await ask(ep.list, {
        payload: { name },
        timeoutMs: SHORT_MS,
      });
      const speaker = found.speakers[0];
      if (speaker === undefined) {
        throw new SpeakersError("SPEAKER_NOT_FOUND", `No speaker is named "${name}".`, {
          hint: "Run `speakers list` to see who is enrolled.",
        });
      }
      return speaker;
    },
    get: (speakerId, includeEmbeddings = false) =>
      ask(ep.get, {
        payload: { speakerId, includeEmbeddings },
        timeoutMs: SHORT_MS,
      }),
    rename: (speakerId, name) =>
      ask(ep.rename, {
        payload: { speakerId, name },
        timeoutMs: SHORT_MS,
      }),
    remove: (speakerId) =>
      ask(ep.delete, {
        payload: { speakerId },
        timeoutMs: LONG_MS,
      }),
    useModel: (model) =>
      ask(ep.modelUse, {
        payload: { model },
        timeoutMs: SHORT_MS,
      }),
  };
}
