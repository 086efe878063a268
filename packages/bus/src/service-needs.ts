import { CONSUMERS, KV_BUCKETS, OBJECT_STORES, STREAMS } from "@speakers/events";
import type { TopologyNeeds } from "./prepare-topology.js";

/**
 * What each TS service checks at start when it does not provision (ADR 0001's chain). Only what exists before
 * the service runs: the ingest-seen bucket and each plugin's own consumer and buckets are created by their
 * owner when missing, which its NATS user may do. deploy/test checks each user can look all of these up.
 */
export const SERVICE_NEEDS = {
  capture: {
    streams: [STREAMS.AUDIO.name],
    objectStores: [OBJECT_STORES.audioClips.name],
  },
  registry: {
    streams: [STREAMS.EMBEDDINGS.name, STREAMS.SPEAKERS.name, STREAMS.DEADLETTER.name],
    consumers: [CONSUMERS.speakerRegistry],
    kvBuckets: [
      KV_BUCKETS.speakers.name,
      KV_BUCKETS.speakerSamples.name,
      KV_BUCKETS.voiceprints.name,
      KV_BUCKETS.registryState.name,
    ],
    objectStores: [OBJECT_STORES.audioClips.name],
  },
  wyomingBridge: {
    streams: [STREAMS.SPEAKERS.name, STREAMS.AUDIO.name],
    objectStores: [OBJECT_STORES.audioClips.name],
  },
  plugins: {
    streams: [STREAMS.SPEAKERS.name, STREAMS.DEADLETTER.name],
  },
} as const satisfies Record<string, TopologyNeeds>;
