import type { Bus, Logger } from "@speakers/bus";
import { decodeJson, SpeakerIdentified } from "@speakers/events";

/** One log line per identification, so a person watching `pnpm start` sees who spoke where. */
export function logIdentifications(bus: Bus, logger: Logger): () => void {
  const sub = bus.nc.subscribe(SpeakerIdentified.filter, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const e = decodeJson(SpeakerIdentified, msg.data);
        const where = e.source ? `${e.source.deviceId}${e.source.room ? ` (${e.source.room})` : ""}` : "?";
        const who = e.decision === "known" && e.speaker ? e.speaker.name : "unknown voice";
        logger.info(
          { component: "identified", score: Number(e.score.toFixed(3)), sourceEventId: e.sourceEventId },
          `${who} at ${where}`,
        );
      } catch (error) {
        logger.warn({ err: error }, "unreadable speaker.identified");
      }
    },
  });
  return () => sub.unsubscribe();
}
