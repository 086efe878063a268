/** Typed calls to the `registry` micro service, as every CLI command makes them. */
import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { type Bus, call, putClip } from "@speakers/bus";
import {
  CalibrateRequest,
  CalibrationGetRequest,
  CalibrationReply,
  DeleteReply,
  type EnrollItem,
  EnrollMeta,
  EnrollReply,
  IdentifyMeta,
  IdentifyReply,
  ListReply,
  ListRequest,
  type ModelRef,
  ModelUseReply,
  ModelUseRequest,
  RenameRequest,
  SERVICES,
  SpeakerDetail,
  SpeakerIdRequest,
  SpeakerSummary,
  type SpeakerSummary as SpeakerSummaryPayload,
  SpeakersError,
  VerifyMeta,
  VerifyReply,
} from "@speakers/events";
import { formatOf, readAudioFile } from "./audio-files.js";

const ep = SERVICES.registry.endpoints;
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
  byName(name: string): Promise<SpeakerSummaryPayload>;
  get(speakerId: string, includeEmbeddings?: boolean): Promise<SpeakerDetail>;
  rename(speakerId: string, name: string): Promise<SpeakerSummaryPayload>;
  remove(speakerId: string): Promise<DeleteReply>;
  /** Makes a model (name or key) the live one, through the registry: it checks voiceprints and a worker. */
  useModel(model: string): Promise<ModelUseReply>;
}

export function registryClient(bus: Bus): RegistryClient {
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
      return call(bus, ep.enroll, {
        request: EnrollMeta,
        payload: { name, items, enrollmentId, ...(options.createOnly ? { createOnly: true } : {}) },
        reply: EnrollReply,
        timeoutMs: LONG_MS,
        unavailableCode: "WORKER_UNAVAILABLE",
      });
    },
    async identifyFile(file, topK = 5) {
      const bytes = await readAudioFile(file);
      const format = formatOf(file);
      return call(bus, ep.identify, {
        request: IdentifyMeta,
        payload: { topK, ...(format === undefined ? {} : { format }) },
        body: bytes,
        reply: IdentifyReply,
        timeoutMs: LONG_MS,
      });
    },
    identifyPath(path, topK = 5, options = {}) {
      const format = formatOf(path);
      const exclude = options.excludeSpeakers ?? [];
      return call(bus, ep.identify, {
        request: IdentifyMeta,
        payload: {
          topK,
          path,
          ...(format === undefined ? {} : { format }),
          ...(exclude.length === 0 ? {} : { excludeSpeakers: [...exclude] }),
        },
        reply: IdentifyReply,
        timeoutMs: LONG_MS,
      });
    },
    async verifyFile(speakerId, file) {
      const bytes = await readAudioFile(file);
      const format = formatOf(file);
      return call(bus, ep.verify, {
        request: VerifyMeta,
        payload: { speakerId, ...(format === undefined ? {} : { format }) },
        body: bytes,
        reply: VerifyReply,
        timeoutMs: LONG_MS,
      });
    },
    calibration: (model) =>
      call(bus, ep.calibrationGet, {
        request: CalibrationGetRequest,
        payload: model === undefined ? {} : { model },
        reply: CalibrationReply,
        timeoutMs: LONG_MS,
      }),
    calibrate: (request = {}) =>
      call(bus, ep.calibrate, {
        request: CalibrateRequest,
        payload: request,
        reply: CalibrationReply,
        timeoutMs: LONG_MS,
      }),
    list: () =>
      call(bus, ep.list, {
        request: ListRequest,
        payload: { limit: 1000 },
        reply: ListReply,
        timeoutMs: SHORT_MS,
      }),
    async byName(name) {
      const found = await call(bus, ep.list, {
        request: ListRequest,
        payload: { name },
        reply: ListReply,
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
      call(bus, ep.get, {
        request: SpeakerIdRequest,
        payload: { speakerId, includeEmbeddings },
        reply: SpeakerDetail,
        timeoutMs: SHORT_MS,
      }),
    rename: (speakerId, name) =>
      call(bus, ep.rename, {
        request: RenameRequest,
        payload: { speakerId, name },
        reply: SpeakerSummary,
        timeoutMs: SHORT_MS,
      }),
    remove: (speakerId) =>
      call(bus, ep.delete, {
        request: SpeakerIdRequest,
        payload: { speakerId },
        reply: DeleteReply,
        timeoutMs: LONG_MS,
      }),
    useModel: (model) =>
      call(bus, ep.modelUse, {
        request: ModelUseRequest,
        payload: { model },
        reply: ModelUseReply,
        timeoutMs: SHORT_MS,
      }),
  };
}
