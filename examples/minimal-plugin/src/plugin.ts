import { definePlugin, Type } from "@speakers/plugin-sdk";

/**
 * The smallest useful plugin: greets everyone the registry recognises. It imports only the SDK, declares its
 * config with defaults, and publishes on its own subject `plugin.hello.greeted`.
 */
export const hello = definePlugin({
  name: "hello",
  version: "0.1.0",
  config: Type.Object({ greeting: Type.String({ default: "Hello" }) }),
  on: {
    "speaker.identified": (event, ctx) => {
      if (event.decision !== "known" || !event.speaker) return;
      const text = `${ctx.config.greeting}, ${event.speaker.name}${event.source?.room ? ` in the ${event.source.room}` : ""}!`;
      ctx.logger.info({ speaker: event.speaker.name }, text);
      ctx.publish("greeted", { text, speakerId: event.speaker.id, eventId: ctx.event.id });
    },
  },
});
