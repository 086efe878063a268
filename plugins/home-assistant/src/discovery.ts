import type { SpeakerIdentified } from "@speakers/plugin-sdk";

export interface TopicsConfig {
  /** Home Assistant's discovery prefix (default `homeassistant`). */
  discoveryPrefix: string;
  /** Prefix of our own state topics (default `speakers`). */
  baseTopic: string;
  /** Sensor state when the voice was not recognised. */
  unknownName: string;
}

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An MQTT- and entity-id-safe token: `Living Room` becomes `living_room`. */
export function roomSlug(room: string): string {
  const slug = room
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return slug === "" ? "unknown" : slug;
}

/** The room an identification belongs to: the source's room, else its device, else `unknown`. */
export function roomOf(event: SpeakerIdentified): string {
  return event.source?.room ?? event.source?.deviceId ?? "unknown";
}

export function availabilityTopic(config: TopicsConfig): string {
  return `${config.baseTopic}/availability`;
}

export function roomTopics(config: TopicsConfig, room: string) {
  const slug = roomSlug(room);
  const state = `${config.baseTopic}/${slug}`;
  return {
    slug,
    sensorConfig: `${config.discoveryPrefix}/sensor/speakers_${slug}/last_speaker/config`,
    eventConfig: `${config.discoveryPrefix}/event/speakers_${slug}/identified/config`,
    lastSpeaker: `${state}/last_speaker`,
    attributes: `${state}/last_speaker/attributes`,
    identified: `${state}/identified`,
  };
}

const ORIGIN = { name: "speakers", sw_version: "0.1.0" };

/**
 * MQTT discovery for one room (retained, so Home Assistant finds them after its own restart): a device
 * "Speakers <room>" with a sensor holding the last speaker and an event entity firing per identification.
 */
export function discoveryMessages(config: TopicsConfig, room: string): MqttMessage[] {
  const t = roomTopics(config, room);
  const device = {
    identifiers: [`speakers_${t.slug}`],
    name: `Speakers ${room}`,
    manufacturer: "speakers",
    model: "Speaker recognition",
    suggested_area: room,
  };
  const common = {
    availability_topic: availabilityTopic(config),
    device,
    origin: ORIGIN,
    icon: "mdi:account-voice",
  };
  return [
    {
      topic: t.sensorConfig,
      retain: true,
      payload: JSON.stringify({
        ...common,
        name: "Last speaker",
        unique_id: `speakers_${t.slug}_last_speaker`,
        state_topic: t.lastSpeaker,
        json_attributes_topic: t.attributes,
      }),
    },
    {
      topic: t.eventConfig,
      retain: true,
      payload: JSON.stringify({
        ...common,
        name: "Speaker identified",
        unique_id: `speakers_${t.slug}_identified`,
        state_topic: t.identified,
        event_types: ["known", "unknown"],
      }),
    },
  ];
}

/** The state after one identification: the sensor (retained) and one event message (not retained). */
export function identificationMessages(
  config: TopicsConfig,
  event: SpeakerIdentified,
  envelope: { id: string; time: string },
): MqttMessage[] {
  const room = roomOf(event);
  const t = roomTopics(config, room);
  const name = event.decision === "known" && event.speaker ? event.speaker.name : config.unknownName;
  const details = {
    speaker: name,
    speaker_id: event.decision === "known" ? (event.speaker?.id ?? null) : null,
    score: event.score,
    room,
    device: event.source?.deviceId ?? null,
    at: event.capturedAt ?? envelope.time,
    event_id: envelope.id,
  };
  return [
    { topic: t.lastSpeaker, retain: true, payload: name },
    { topic: t.attributes, retain: true, payload: JSON.stringify(details) },
    {
      topic: t.identified,
      retain: false,
      payload: JSON.stringify({ event_type: event.decision, ...details }),
    },
  ];
}
