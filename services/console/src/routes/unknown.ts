import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { Name } from "@speakers/events";
import type { RouteDeps } from "../app.js";

const ClipParams = Type.Object({ clipId: Type.String({ minLength: 1, maxLength: 300 }) });

/** Unknown voices page: list, listen, name (a new speaker or an existing one's sample), delete. */
export const unknownRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { household }) => {
  app.get("/api/unknown", async () => household.unknownClips());

  app.get("/api/unknown/:clipId/audio", { schema: { params: ClipParams } }, async (req, reply) => {
    const [audio, list] = await Promise.all([
      household.unknownAudio(req.params.clipId),
      household.unknownClips(),
    ]);
    const clip = list.clips.find((c) => c.clipId === req.params.clipId);
    reply
      .type(clip?.contentType ?? "application/octet-stream")
      .header("cache-control", "private, max-age=300");
    return Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  });

  app.post(
    "/api/unknown/:clipId/name",
    { schema: { params: ClipParams, body: Type.Object({ name: Name }, { additionalProperties: false }) } },
    async (req) => household.nameClip(req.params.clipId, req.body.name.trim()),
  );

  app.delete("/api/unknown/:clipId", { schema: { params: ClipParams } }, async (req) =>
    household.deleteClip(req.params.clipId),
  );
};
