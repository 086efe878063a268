/**
 * The `registry` micro service's endpoints, each declared once: ADR-32 name, subject, request and reply
 * messages, and the codes it answers with beyond the generic ones (INVALID_REQUEST, INTERNAL, TIMEOUT).
 * The registry serves from this table and registry-client calls from it, so the two cannot drift apart.
 */
import * as C from "./calibration.js";
import type { MessageDefinition } from "./define.js";
import type { ErrorCode } from "./errors.js";
import * as H from "./household-sources.js";
import * as R from "./registry-service.js";
import { SERVICES } from "./topology.js";

export interface EndpointDefinition<
  Req extends MessageDefinition = MessageDefinition,
  Rep extends MessageDefinition = MessageDefinition,
> {
  /** The endpoint's name in `$SRV.INFO` / `$SRV.STATS`. */
  readonly name: string;
  readonly subject: string;
  readonly request: Req;
  readonly reply: Rep;
  /** Codes this endpoint answers with, besides INVALID_REQUEST, INTERNAL and TIMEOUT. */
  readonly errors?: readonly ErrorCode[];
}

const endpoint = <Req extends MessageDefinition, Rep extends MessageDefinition>(
  e: EndpointDefinition<Req, Rep>,
): EndpointDefinition<Req, Rep> => e;

const subject = SERVICES.registry.endpoints;

export const REGISTRY_ENDPOINTS = {
  identify: endpoint({
    name: "identify",
    subject: subject.identify,
    request: R.IdentifyMeta,
    reply: R.IdentifyReply,
  }),
  verify: endpoint({ name: "verify", subject: subject.verify, request: R.VerifyMeta, reply: R.VerifyReply }),
  enroll: endpoint({ name: "enroll", subject: subject.enroll, request: R.EnrollMeta, reply: R.EnrollReply }),
  samplesAdd: endpoint({
    name: "samples-add",
    subject: subject.samplesAdd,
    request: R.SamplesAddMeta,
    reply: R.SamplesAddReply,
  }),
  samplesRemove: endpoint({
    name: "samples-remove",
    subject: subject.samplesRemove,
    request: R.SamplesRemoveRequest,
    reply: R.SpeakerSummary,
    errors: ["SPEAKER_NOT_FOUND", "SAMPLE_NOT_FOUND"],
  }),
  list: endpoint({ name: "list", subject: subject.list, request: R.ListRequest, reply: R.ListReply }),
  get: endpoint({
    name: "get",
    subject: subject.get,
    request: R.SpeakerIdRequest,
    reply: R.SpeakerDetail,
    errors: ["SPEAKER_NOT_FOUND"],
  }),
  rename: endpoint({
    name: "rename",
    subject: subject.rename,
    request: R.RenameRequest,
    reply: R.SpeakerSummary,
    errors: ["SPEAKER_NOT_FOUND", "SPEAKER_EXISTS"],
  }),
  voiceprintsRebuild: endpoint({
    name: "voiceprints-rebuild",
    subject: subject.voiceprintsRebuild,
    request: R.RebuildVoiceprintsRequest,
    reply: R.RebuildVoiceprintsReply,
  }),
  calibrationGet: endpoint({
    name: "calibration-get",
    subject: subject.calibrationGet,
    request: C.CalibrationGetRequest,
    reply: C.CalibrationReply,
  }),
  calibrate: endpoint({
    name: "calibrate",
    subject: subject.calibrate,
    request: C.CalibrateRequest,
    reply: C.CalibrationReply,
  }),
  adaptation: endpoint({
    name: "adaptation",
    subject: subject.adaptation,
    request: H.AdaptationRequest,
    reply: H.AdaptationReply,
  }),
  cohortImport: endpoint({
    name: "cohort-import",
    subject: subject.cohortImport,
    request: H.CohortImportRequest,
    reply: H.CohortReply,
    errors: ["EMBEDDING_DIM_MISMATCH"],
  }),
  cohortGet: endpoint({
    name: "cohort-get",
    subject: subject.cohortGet,
    request: H.CohortRequest,
    reply: H.CohortReply,
  }),
  cohortClear: endpoint({
    name: "cohort-clear",
    subject: subject.cohortClear,
    request: H.CohortRequest,
    reply: H.CohortReply,
  }),
  modelUse: endpoint({
    name: "model-use",
    subject: subject.modelUse,
    request: R.ModelUseRequest,
    reply: R.ModelUseReply,
    errors: ["NO_VOICEPRINT", "WORKER_UNAVAILABLE"],
  }),
  delete: endpoint({
    name: "delete",
    subject: subject.delete,
    request: R.SpeakerIdRequest,
    reply: R.DeleteReply,
    errors: ["SPEAKER_NOT_FOUND"],
  }),
} as const;
