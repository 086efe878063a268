export { formatOf, isAudioFile, readAudioFile } from "./audio-files.js";
export { newEnrollmentId, type RegistryClient, registryClient } from "./registry-client.js";
