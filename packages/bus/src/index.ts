export { audioOf, CLIP_BUCKET, type ClipRef, getClip, putClip } from "./clips.js";
export { type Bus, type ConnectBusOptions, closeBus, connectBus } from "./connect.js";
export {
  type ConsumeHandle,
  type ConsumeOptions,
  consume,
  type Delivery,
  type DeliveryOf,
  isEvent,
} from "./consume.js";
export { decodePayload } from "./contract.js";
export { DEAD_LETTER_HEADERS, deadLetter } from "./dead-letter.js";
export { type EventMeta, eventMeta } from "./event-meta.js";
export { backoffDelay, isPermanent, PermanentError } from "./failure.js";
export { type CreateLoggerOptions, createLogger, eventLogger, type Logger } from "./logger.js";
export {
  checkTopology,
  type PrepareTopologyOptions,
  type ProvisionMode,
  permissionViolationIn,
  prepareTopology,
  provisionModeFromEnv,
  type TopologyNeeds,
} from "./prepare-topology.js";
export {
  type ConsumerSpec,
  defaultTopology,
  ensureConsumer,
  ensureStream,
  type KvBucketSpec,
  type ObjectStoreSpec,
  type ProvisionAction,
  type ProvisionReport,
  provision,
  type Topology,
  type TopologyOverrides,
} from "./provision.js";
export { type PublishOptions, type PublishResult, publish } from "./publish.js";
export {
  type CallOptions,
  call,
  callEndpoint,
  type RequestOptions,
  request,
  serviceError,
} from "./request.js";
export { addService, type EndpointRequest, type EndpointSpec, serveEndpoint } from "./serve-endpoint.js";
export { inboxPrefixFor, type SplitServers, splitServerCredentials } from "./server-credentials.js";
export { SERVICE_NEEDS } from "./service-needs.js";
export { type Cleanup, type InstallShutdownOptions, installShutdown } from "./shutdown.js";
export { type KvUpdateResult, type UpdateKvOptions, updateKv } from "./update-kv.js";
