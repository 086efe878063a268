import { AudioCaptured, AudioTranscribed } from "./audio.js";
import { CalibrateRequest, CalibrationGetRequest, CalibrationReply } from "./calibration.js";
import type { ContractDefinition } from "./define.js";
import { EmbeddingComputed, EmbeddingFailed } from "./embedding.js";
import {
  AugmentMeta,
  AugmentReply,
  BatchResult,
  CentroidReply,
  CentroidRequest,
  EmbeddingResult,
  ExtractBatchMeta,
  ExtractMeta,
  ModelsReply,
  SimilarityReply,
  SimilarityRequest,
} from "./embedding-service.js";
import { ErrorPayloadMessage } from "./error.js";
import {
  AdaptationReply,
  AdaptationRequest,
  CohortImportRequest,
  CohortReply,
  CohortRequest,
} from "./household-sources.js";
import {
  ClipDeleted,
  ClipRequest,
  LastHeardList,
  LastHeardRequest,
  NameClipReply,
  NameClipRequest,
  PresenceRecord,
  UnknownClipList,
  WhoIsHomeReply,
  WhoIsHomeRequest,
} from "./plugin-services.js";
import {
  DeleteReply,
  EnrollMeta,
  EnrollReply,
  IdentifyMeta,
  IdentifyReply,
  ListReply,
  ListRequest,
  ModelUseReply,
  ModelUseRequest,
  RebuildVoiceprintsReply,
  RebuildVoiceprintsRequest,
  RenameRequest,
  SamplesAddMeta,
  SamplesAddReply,
  SamplesRemoveRequest,
  SpeakerDetail,
  SpeakerIdRequest,
  SpeakerSummary,
  VerifyMeta,
  VerifyReply,
} from "./registry-service.js";
import {
  EnrollmentProgress,
  SpeakerDeleted,
  SpeakerEnrolled,
  SpeakerIdentified,
  SpeakerProvisional,
  SpeakerUpdated,
} from "./speaker.js";

/** Stream events, in chain order. */
export const EVENTS = [
  AudioCaptured,
  AudioTranscribed,
  EmbeddingComputed,
  EmbeddingFailed,
  SpeakerProvisional,
  SpeakerIdentified,
  SpeakerEnrolled,
  SpeakerUpdated,
  SpeakerDeleted,
  EnrollmentProgress,
] as const;

/** Request/reply payloads of the micro services. */
export const MESSAGES = [
  ErrorPayloadMessage,
  ExtractMeta,
  ExtractBatchMeta,
  EmbeddingResult,
  BatchResult,
  SimilarityRequest,
  SimilarityReply,
  CentroidRequest,
  CentroidReply,
  ModelsReply,
  AugmentMeta,
  AugmentReply,
  SpeakerSummary,
  IdentifyMeta,
  IdentifyReply,
  VerifyMeta,
  VerifyReply,
  EnrollMeta,
  EnrollReply,
  ListRequest,
  ListReply,
  SpeakerIdRequest,
  SpeakerDetail,
  RenameRequest,
  DeleteReply,
  SamplesAddMeta,
  SamplesAddReply,
  SamplesRemoveRequest,
  RebuildVoiceprintsRequest,
  RebuildVoiceprintsReply,
  PresenceRecord,
  WhoIsHomeRequest,
  WhoIsHomeReply,
  LastHeardRequest,
  LastHeardList,
  UnknownClipList,
  ClipRequest,
  NameClipRequest,
  NameClipReply,
  ClipDeleted,
  CalibrationGetRequest,
  CalibrateRequest,
  CalibrationReply,
  AdaptationRequest,
  AdaptationReply,
  CohortImportRequest,
  CohortRequest,
  CohortReply,
  ModelUseRequest,
  ModelUseReply,
] as const;

/**
 * The one list of every declared message. Export and the round-trip check enumerate it, so a definition
 * left out of here is neither exported nor checked: add new ones to EVENTS or MESSAGES.
 */
export const CATALOG: readonly ContractDefinition[] = [...EVENTS, ...MESSAGES];

/** The catalogue entry with this type id (`ce-type`), if any. */
export function definitionByTypeId(typeId: string): ContractDefinition | undefined {
  return CATALOG.find((definition) => definition.typeId === typeId);
}
