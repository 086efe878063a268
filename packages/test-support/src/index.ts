export { freePort, onProcessExit, stopProcess } from "@speakers/runtime";
export { consumerIdle } from "./consumer-idle.js";
export { readDeadLetters } from "./dead-letters.js";
export {
  DEV_AUDIO,
  type DevClip,
  devClips,
  devFiles,
  devSpeakers,
  readClip,
  shortClipPerSpeaker,
} from "./dev-audio.js";
export { INSTALL_COMMAND, NatsTestingError, type NatsTestingErrorCode } from "./errors.js";
export { type EventuallyOptions, eventually, sleep, waitUntil } from "./eventually.js";
export {
  type FindNatsServerOptions,
  findNatsServer,
  natsServerCandidates,
  requireNatsServer,
} from "./find-nats-server.js";
export { MOSQUITTO_INSTALL, type Mosquitto, startMosquitto } from "./mosquitto.js";
export { publishIdentified } from "./publish-identified.js";
export { type NatsServer, type StartNatsServerOptions, startNatsServer } from "./start-nats-server.js";
export {
  connectTestBus,
  startTestBus,
  type TestBus,
  type TestBusOptions,
  type TestServer,
  useNatsServer,
  useTestBus,
} from "./test-bus.js";
export { type NatsHandle, type NatsSource, type UseNatsOptions, useNats } from "./use-nats.js";
export { startWorkerProcess, type WorkerProcess } from "./worker-process.js";
export { PY_DIR, type PyProcess, runClient, spawnPy, startPocketSphinx } from "./wyoming-py.js";
