export { DEV_AUDIO, type DevClip, devClips } from "./dev-audio.js";
export { INSTALL_COMMAND, NatsTestingError, type NatsTestingErrorCode } from "./errors.js";
export {
  type FindNatsServerOptions,
  findNatsServer,
  natsServerCandidates,
  requireNatsServer,
} from "./find-nats-server.js";
export { freePort } from "./free-port.js";
export { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./start-nats-server.js";
export { type NatsHandle, type NatsSource, type UseNatsOptions, useNats } from "./use-nats.js";
