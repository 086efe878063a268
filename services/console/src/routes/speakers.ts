import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { Name, type PresenceRecord, SpeakersError } from "@speakers/events";
import type { RouteDeps } from "../app.js";
import { formatFor } from "../audio-upload.js";

const SpeakerParams = Type.Object({ speakerId: Type.String({ minLength: 1, maxLength: 200 }) });
const Label = Type.Optional(Type.String({ minLength: 1, maxLength: 200 }));

/** Speakers page and Enroll page: list, detail, rename, erase, and one sample at a time for enrollment. */
export const speakerRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { household, logger }) => {
  app.get("/api/speakers", async () => {
    const [list, heard] = await Promise.all([
      household.listSpeakers(),
      household.lastHeard().catch((err: unknown) => {
        logger.debug({ err }, "presence did not answer; the list shows no last-heard times");
        return undefined;
      }),
    ]);
    const byId = new Map<string, PresenceRecord>((heard?.speakers ?? []).map((r) => [r.speakerId, r]));
    return {
      total: list.total,
      presence: heard !== undefined,
      speakers: list.speakers.map((s) => {
        const h = byId.get(s.id);
        return {
          ...s,
          ...(h ? { lastHeard: { at: h.lastHeardAt, room: h.room, deviceId: h.deviceId } } : {}),
        };
      }),
    };
  });

  app.get("/api/speakers/:speakerId", { schema: { params: SpeakerParams } }, async (req) => {
    const detail = await household.getSpeaker(req.params.speakerId);
    // What erasing would delete, counted the way the registry erases it.
    const clips = detail.samples.filter((s) => s.clip !== undefined).length;
    return {
      ...detail,
      erases: { samples: detail.samples.length, voiceprints: detail.voiceprints.length, clips },
    };
  });

  app.patch(
    "/api/speakers/:speakerId",
    { schema: { params: SpeakerParams, body: Type.Object({ name: Name }, { additionalProperties: false }) } },
    async (req) => household.rename(req.params.speakerId, req.body.name.trim()),
  );

  app.delete("/api/speakers/:speakerId", { schema: { params: SpeakerParams } }, async (req) =>
    household.erase(req.params.speakerId),
  );

  const sampleOf = (body: unknown, contentType: string | undefined, label: string | undefined) => {
    const format = formatFor(contentType);
    if (!(body instanceof Buffer) || body.length === 0) {
      throw new SpeakersError("AUDIO_EMPTY", "The upload has no audio.");
    }
    return {
      bytes: new Uint8Array(body.buffer, body.byteOffset, body.length),
      format,
      label: label ?? "upload",
    };
  };

  app.post(
    "/api/enroll",
    { schema: { querystring: Type.Object({ name: Name, label: Label }, { additionalProperties: false }) } },
    async (req) => {
      const name = req.query.name.trim();
      if (name === "") throw new SpeakersError("INVALID_REQUEST", "Give the speaker a name.");
      return household.enroll(name, sampleOf(req.body, req.headers["content-type"], req.query.label));
    },
  );

  app.post(
    "/api/speakers/:speakerId/samples",
    {
      schema: {
        params: SpeakerParams,
        querystring: Type.Object({ label: Label }, { additionalProperties: false }),
      },
    },
    async (req) =>
      household.addSample(
        req.params.speakerId,
        sampleOf(req.body, req.headers["content-type"], req.query.label),
      ),
  );
};
