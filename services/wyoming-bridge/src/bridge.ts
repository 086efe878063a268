import { createServer, type Server, type Socket } from "node:net";
import type { Bus, Logger } from "@speakers/bus";
import { isSpeakersError, SpeakersError, toErrorPayload } from "@speakers/events";
import type { BridgeConfig, Listener } from "./config.js";
import { createIdentificationWatch } from "./identifications.js";
import { bridgeInfo } from "./info.js";
import { Session, type UtteranceTimings } from "./session.js";
import { describeUpstream, openUpstreamConnections, upstreamLanguages } from "./upstream.js";
import { encodeEvent, FrameReader, type WyomingEvent } from "./wire.js";
import { type Advertisement, advertise } from "./zeroconf.js";

export interface WyomingBridgeDeps {
  bus: Bus;
  config: BridgeConfig;
  logger?: Logger;
  /** Called after each transcript went out (benchmarks, logs). */
  onUtterance?: (timings: UtteranceTimings) => void;
}

export interface BoundListener extends Listener {
  /** The port actually bound (differs from `port` when that was 0). */
  boundPort: number;
  uri: string;
}

export interface WyomingBridge {
  start(): Promise<void>;
  readonly listeners: readonly BoundListener[];
  /** Open client connections and utterances waiting for their identification (for the leak checks). */
  stats(): { connections: number; waiting: number; upstreams: number };
  stop(): Promise<void>;
}

/** How long `info` trusts what the upstream said about itself. */
const UPSTREAM_INFO_TTL_MS = 60_000;

/**
 * The Wyoming STT proxy Home Assistant adds as an ordinary speech-to-text provider: it streams each
 * utterance on to the real STT, publishes it as audio.captured, and returns the transcript once the speaker
 * is identified (bounded), so Home Assistant's MQTT entities say who spoke before the intent runs.
 */
export function createWyomingBridge(deps: WyomingBridgeDeps): WyomingBridge {
  const { bus, config } = deps;
  const logger = deps.logger ?? bus.logger;
  const watch = createIdentificationWatch(bus, config.awaitPlugins);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const bound: BoundListener[] = [];
  let advertisement: Advertisement | undefined;
  let upstreamInfo: { languages: string[]; at: number } | undefined;

  const languages = async (): Promise<string[]> => {
    if (!config.upstream) return config.languages;
    if (upstreamInfo && performance.now() - upstreamInfo.at < UPSTREAM_INFO_TTL_MS)
      return upstreamInfo.languages;
    try {
      const found = upstreamLanguages(await describeUpstream(config.upstream, 5_000));
      upstreamInfo = { languages: found.length > 0 ? found : config.languages, at: performance.now() };
      return upstreamInfo.languages;
    } catch (err) {
      logger.warn({ err }, "the upstream did not describe itself; listing the configured languages");
      return upstreamInfo?.languages ?? config.languages;
    }
  };

  const accept = (listener: Listener, socket: Socket) => {
    if (sockets.size >= config.maxSessions) {
      const busy = new SpeakersError(
        "BACKPRESSURE",
        `The bridge already serves ${config.maxSessions} connections.`,
      );
      socket.end(encodeEvent(errorEvent(busy)));
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(config.idleMs);
    const send = (event: WyomingEvent) => {
      if (!socket.destroyed && socket.writable) socket.write(encodeEvent(event));
    };
    const session = new Session(
      {
        bus,
        config,
        listener,
        watch,
        logger,
        info: async () => bridgeInfo(await languages(), config.upstream !== null),
        ...(deps.onUtterance ? { onUtterance: deps.onUtterance } : {}),
      },
      send,
    );
    const reader = new FrameReader();
    let queue = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      session.abort();
      const log =
        isSpeakersError(err) && err.status < 500 ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ err, room: listener.room, remote: socket.remoteAddress }, "closing a Wyoming connection");
      if (!socket.destroyed) socket.end(encodeEvent(errorEvent(err)));
      // A peer that never reads must not keep the socket: end() waits for it, destroy does not.
      setTimeout(() => socket.destroy(), 1_000).unref();
    };
    socket.on("data", (chunk) => {
      if (failed) return;
      let events: WyomingEvent[];
      try {
        events = reader.push(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      for (const event of events) {
        // Chunks are handled at once (streamed upstream as they come); only audio-stop and describe wait.
        queue = queue.then(() => (failed ? undefined : session.handle(event))).catch(fail);
      }
    });
    socket.on("timeout", () =>
      fail(new SpeakersError("TIMEOUT", `The client sent nothing for ${config.idleMs} ms.`)),
    );
    socket.on("error", (err) => logger.debug({ err }, "Wyoming client socket error"));
    socket.on("close", () => {
      sockets.delete(socket);
      session.abort();
    });
  };

  return {
    listeners: bound,
    stats: () => ({
      connections: sockets.size,
      waiting: watch.pending,
      upstreams: openUpstreamConnections(),
    }),
    async start() {
      await watch.start();
      for (const listener of config.listeners) {
        const server = createServer((socket) => accept(listener, socket));
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(listener.port, listener.host, () => {
            server.off("error", reject);
            resolve();
          });
        });
        servers.push(server);
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : listener.port;
        const host = listener.host.includes(":") ? `[${listener.host}]` : listener.host;
        bound.push({ ...listener, boundPort: port, uri: `tcp://${host}:${port}` });
        logger.info({ uri: `tcp://${host}:${port}`, room: listener.room }, "Wyoming bridge listening");
      }
      if (config.zeroconf) advertisement = advertise(config.zeroconfName, bound, logger);
    },
    async stop() {
      await advertisement?.stop();
      for (const server of servers) server.close();
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve(undefined)))));
      servers.length = 0;
      await watch.stop();
    },
  };
}

/** A Wyoming `error` event: the text a person reads, and our catalogue code. */
export function errorEvent(err: unknown): WyomingEvent {
  const payload = toErrorPayload(err);
  return { type: "error", data: { text: payload.message, code: payload.code } };
}
