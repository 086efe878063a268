/**
 * createConsole builds the fastify app (no network until listen()): the JSON API under /api, the live feed as
 * server-sent events, and the built page from dist/public.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Bus, Logger } from "@speakers/bus";
import { ERRORS, isSpeakersError, SpeakersError, toErrorPayload } from "@speakers/events";
import Fastify, { LogController } from "fastify";
import { createAccess } from "./access.js";
import { createCalibrationSource } from "./calibration-source.js";
import { type ConsoleConfig, isLoopbackHost } from "./config.js";
import { householdClient } from "./household-client.js";
import { liveRoutes } from "./routes/live.js";
import { sessionRoutes } from "./routes/session.js";
import { speakerRoutes } from "./routes/speakers.js";
import { statusRoutes } from "./routes/status.js";
import { unknownRoutes } from "./routes/unknown.js";
import { createSystemInfo } from "./system-info.js";

export interface ConsoleDeps {
  bus: Bus;
  config: ConsoleConfig;
  logger?: Logger;
  /** Where the built page is (default: the package's dist/public, from src/ in tests and dist/ when run). */
  publicDir?: string;
}

function buildApp(config: ConsoleConfig, logger: Logger) {
  return Fastify({
    loggerInstance: logger.child({ component: "console" }),
    // Each request is not worth a log line on a home console; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxUploadBytes,
  }).withTypeProvider<TypeBoxTypeProvider>();
}

export type ConsoleApp = ReturnType<typeof buildApp>;

export interface Console {
  readonly app: ConsoleApp;
  /** Listens; resolves to the URL a person opens. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createConsole(deps: ConsoleDeps): Console {
  const { bus, config } = deps;
  const logger = deps.logger ?? bus.logger;
  const app = buildApp(config, logger);
  const access = createAccess({
    token: config.token,
    loopbackOnly: isLoopbackHost(config.host) && !config.token,
  });
  const household = householdClient(bus);
  const system = createSystemInfo(bus);
  const calibration = createCalibrationSource(bus, system);

  app.register(fastifyCookie);
  // Audio arrives as the raw body; what types are accepted is decided per route (a typed error, not a 415).
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", (req, reply) => access.check(req, reply));
  app.addHook("onSend", async (_req, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    return payload;
  });
  app.setErrorHandler((err, _req, reply) => {
    const typed = asSpeakersError(err, config.maxUploadBytes);
    if (typed.status >= 500) logger.warn({ err }, "console request failed");
    reply.status(typed.status).send({ error: toErrorPayload(typed) });
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith("/api/")) {
      reply.status(404).send({
        error: toErrorPayload(new SpeakersError("INVALID_REQUEST", `No route ${req.method} ${req.url}.`)),
      });
      return;
    }
    // The page routes by hash; any other path gets the page.
    reply.type("text/html").sendFile("index.html");
  });

  const routeDeps = { household, access, config, bus, system, calibration, logger };
  app.register(sessionRoutes, routeDeps);
  app.register(speakerRoutes, routeDeps);
  app.register(unknownRoutes, routeDeps);
  app.register(liveRoutes, routeDeps);
  app.register(statusRoutes, routeDeps);

  const publicDir = deps.publicDir ?? fileURLToPath(new URL("../dist/public/", import.meta.url));
  if (!existsSync(publicDir)) {
    throw new SpeakersError("INTERNAL", `The console page is not built (${publicDir} is missing).`, {
      hint: "Run `pnpm build`.",
    });
  }
  app.register(fastifyStatic, { root: publicDir, index: ["index.html"], cacheControl: false });

  let url: string | undefined;
  return {
    app,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : config.port;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      url = `http://${host}:${port}`;
      return url;
    },
    close: () => app.close(),
  };
}

export type RouteDeps = {
  household: ReturnType<typeof householdClient>;
  access: ReturnType<typeof createAccess>;
  config: ConsoleConfig;
  bus: Bus;
  system: ReturnType<typeof createSystemInfo>;
  calibration: ReturnType<typeof createCalibrationSource>;
  logger: Logger;
};

/** Fastify's own errors (body too large, bad JSON, schema) in the catalogue's words. */
function asSpeakersError(err: unknown, maxBytes: number): SpeakersError {
  if (isSpeakersError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new SpeakersError("AUDIO_TOO_LONG", `The upload is larger than ${maxBytes} bytes.`, {
      details: { maxBytes },
      hint: "Upload a shorter recording (a sample of 5-30 s is plenty), or split it.",
    });
  }
  if (
    e.validation !== undefined ||
    (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)
  ) {
    return new SpeakersError("INVALID_REQUEST", e.message ?? ERRORS.INVALID_REQUEST.message);
  }
  return new SpeakersError("INTERNAL", e.message ?? "console error", { cause: err });
}
