import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { RouteDeps } from "../app.js";
import { followIdentified } from "../live-feed.js";

const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/live`: server-sent events, one `identified` event per `speaker.identified`, `id:` = its SPEAKERS
 * stream sequence. EventSource sends the last id back as Last-Event-ID when it reconnects, so the feed resumes
 * exactly after it.
 */
export const liveRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { bus, logger }) => {
  // A stream never ends by itself, so closing the server ends them (browsers then reconnect elsewhere or later).
  const open = new Set<{ end(): void }>();
  app.addHook("preClose", async () => {
    for (const res of open) res.end();
  });
  app.get(
    "/api/live",
    {
      schema: {
        querystring: Type.Object({ backlog: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })) }),
      },
    },
    async (req, reply) => {
      const lastId = req.headers["last-event-id"];
      const afterSeq = typeof lastId === "string" && /^\d+$/.test(lastId) ? Number(lastId) : undefined;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write("retry: 1000\n\n");
      open.add(res);
      let stop: (() => Promise<void>) | undefined;
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      const end = () => {
        open.delete(res);
        clearInterval(heartbeat);
        void stop?.().catch(() => {});
        stop = undefined;
      };
      req.raw.on("close", end);
      try {
        stop = await followIdentified(bus, {
          afterSeq,
          backlog: req.query.backlog ?? 20,
          onItem: (item) =>
            res.write(`id: ${item.seq}\nevent: identified\ndata: ${JSON.stringify(item)}\n\n`),
          onError: (err) => {
            logger.warn({ err }, "live feed stopped");
            res.end();
          },
        });
        res.write("event: ready\ndata: {}\n\n");
        if (res.destroyed) end();
      } catch (err) {
        logger.warn({ err }, "live feed could not start");
        clearInterval(heartbeat);
        res.end();
      }
    },
  );
};
