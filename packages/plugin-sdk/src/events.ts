import {
  EnrollmentProgress,
  type PayloadOf,
  SpeakerDeleted,
  SpeakerEnrolled,
  SpeakerIdentified,
  SpeakerUpdated,
} from "@speakers/events";

/** The events a plugin can handle, by subject: everything on the SPEAKERS stream. */
export const PLUGIN_EVENTS = {
  "speaker.identified": SpeakerIdentified,
  "speaker.enrolled": SpeakerEnrolled,
  "speaker.updated": SpeakerUpdated,
  "speaker.deleted": SpeakerDeleted,
  "speaker.enrollment.progress": EnrollmentProgress,
} as const;

export type PluginEventName = keyof typeof PLUGIN_EVENTS;

/** The payload type of one plugin event, e.g. `PluginEvent<"speaker.identified">`. */
export type PluginEvent<N extends PluginEventName> = PayloadOf<(typeof PLUGIN_EVENTS)[N]>;

export function isPluginEventName(value: string): value is PluginEventName {
  return Object.hasOwn(PLUGIN_EVENTS, value);
}
