import type { StackUrls } from "./stack.js";

/** What a person who just ran `pnpm start` needs next: how to enroll a voice and how to send audio. */
export function banner(urls: StackUrls, options: { mqtt: boolean; plugins: readonly string[] }): string {
  const audio = `${urls.capture}/v1/audio?device=kitchen`;
  return [
    "",
    "  Speakers is running.",
    "",
    `  NATS       ${urls.nats}${urls.natsStore ? `  (embedded, data in ${urls.natsStore})` : ""}`,
    `  Capture    ${urls.capture}  (POST ${urls.capture}/v1/audio)`,
    ...(urls.console
      ? [`  Console    ${urls.console}  (open it in a browser: enroll, live, unknown voices)`]
      : []),
    `  Plugins    ${options.plugins.length > 0 ? options.plugins.join(", ") : "none"}${
      options.mqtt ? "" : "  (set MQTT_URL to add home-assistant)"
    }`,
    "",
    "  1. Enroll a voice from a few clips (in another terminal):",
    // An embedded stack announces itself in <data dir>/stack.json, which the CLI joins; an external one does not.
    `       ${urls.natsStore ? "" : `NATS_URL=${urls.nats} `}pnpm speakers enroll <name> <files…>`,
    "  2. Send audio as a microphone would:",
    `       curl --data-binary @clip.flac -H 'Content-Type: audio/flac' '${audio}'`,
    "  3. Watch the identifications below (speaker.identified), or try `pnpm demo`.",
    "",
    "  Ctrl-C stops everything.",
    "",
  ].join("\n");
}
