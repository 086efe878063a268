import { SpeakersError } from "@speakers/events";
import { parseBuffer } from "music-metadata";
import type { Container, SniffedAudio } from "./sniff.js";

const MIME: Record<string, string> = { mp3: "audio/mpeg", webm: "audio/webm", mp4: "audio/mp4" };

/**
 * Rate, channels and duration of MP3, WebM and MP4/M4A from their headers, read by music-metadata (MP4 boxes,
 * EBML and MPEG frames are too much to parse by hand). A header that breaks off is AUDIO_TRUNCATED, one that
 * makes no sense AUDIO_CORRUPT, a file with no audio track AUDIO_UNSUPPORTED_FORMAT.
 */
export async function probeCompressed(buf: Buffer, container: Container): Promise<SniffedAudio> {
  const name = container.toUpperCase();
  let format: Awaited<ReturnType<typeof parseBuffer>>["format"];
  try {
    ({ format } = await parseBuffer(
      buf,
      { mimeType: MIME[container] ?? "", size: buf.length },
      { skipCovers: true },
    ));
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const cut = /exceeds remaining|end-of-stream|end of stream|EndOfStream|beyond the end/i.test(text);
    throw new SpeakersError(
      cut ? "AUDIO_TRUNCATED" : "AUDIO_CORRUPT",
      cut ? `The ${name} file is cut short: ${text}.` : `The ${name} header could not be read: ${text}.`,
      { cause: err, details: { format: container } },
    );
  }
  const { sampleRate, numberOfChannels, duration, codec } = format;
  if (!sampleRate || !numberOfChannels) {
    throw new SpeakersError("AUDIO_UNSUPPORTED_FORMAT", `The ${name} file has no audio track.`, {
      details: { format: container },
    });
  }
  if (numberOfChannels > 8) {
    throw new SpeakersError(
      "AUDIO_UNSUPPORTED_FORMAT",
      `${numberOfChannels} channels are not supported (1 to 8).`,
    );
  }
  return {
    // Opus always decodes at 48 kHz (the header's rate is the input's, informational), as for Ogg.
    format: {
      encoding: container,
      sampleRate: /opus/i.test(codec ?? "") ? 48_000 : sampleRate,
      channels: numberOfChannels,
    },
    contentType: MIME[container] ?? "application/octet-stream",
    ...(duration !== undefined && Number.isFinite(duration) && duration > 0
      ? { durationMs: Math.round(duration * 1000) }
      : {}),
  };
}
