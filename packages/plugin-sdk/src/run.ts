import type { TSchema } from "@sinclair/typebox";
import {
  type Bus,
  type ConsumeHandle,
  consume,
  type Delivery,
  isPermanent,
  type Logger,
} from "@speakers/bus";
import {
  type ErrorCode,
  type EventDefinition,
  isSpeakersError,
  SpeakersError,
  STREAMS,
} from "@speakers/events";
import { type BuiltContext, buildContext, checkSchema, type HandlerContext } from "./context.js";
import { deadLetterForPlugin } from "./dead-letter.js";
import type { AnyPlugin, PluginCleanup, PluginDefinition, PluginHandler } from "./define.js";
import { isPluginEventName, PLUGIN_EVENTS, type PluginEventName } from "./events.js";

export interface StartPluginOptions {
  /** The plugin's raw config; checked against its schema, with the schema's defaults applied. */
  config?: unknown;
  logger?: Logger;
  /** A handler still running after this is abandoned (its signal aborted) and the event retried (default 10 s). */
  handlerTimeoutMs?: number;
  /** Deliveries before a failing event goes to the plugin's dead letters (default 5). */
  maxDeliver?: number;
  /** First retry delay, doubling per delivery (default 1 s). */
  backoffMs?: number;
  /** A `start` still running after this fails the plugin's start (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Where a plugin's new consumer starts: "new" (default) from now on, "all" from the stream's history.
   * A consumer that exists already always resumes where it stopped, so a plugin that was down catches up.
   */
  deliver?: "new" | "all";
}

export interface RunningPlugin {
  readonly name: string;
  readonly durable: string;
  stop(): Promise<void>;
}

export function pluginDurable(name: string): string {
  return `plugin-${name}`;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Starts one plugin: checks its config, runs its `start`, then consumes its own durable consumer
 * `plugin-<name>` on SPEAKERS. Each handler runs under a timeout; an event whose handler keeps failing (or
 * fails with a 4xx error) is copied to `deadletter.plugin.<name>.<subject>` and acked, so it never blocks
 * the plugin and never touches another plugin's consumer.
 */
export async function startPlugin<C extends TSchema>(
  bus: Bus,
  plugin: PluginDefinition<C>,
  options: StartPluginOptions = {},
): Promise<RunningPlugin> {
  if (!NAME.test(plugin.name)) {
    throw new SpeakersError("INVALID_REQUEST", `plugin name "${plugin.name}" must be lowercase [a-z0-9-]`);
  }
  const logger = (options.logger ?? bus.logger).child({ plugin: plugin.name, version: plugin.version });
  const config = plugin.config
    ? checkSchema(plugin.config, options.config, "INVALID_REQUEST", `${plugin.name} config`)
    : {};
  const names = Object.keys(plugin.on).filter(isPluginEventName);
  if (names.length === 0)
    throw new SpeakersError("INVALID_REQUEST", `plugin ${plugin.name} handles no event`);
  const defs = names.map((name) => PLUGIN_EVENTS[name] as EventDefinition);
  const durable = pluginDurable(plugin.name);
  const timeoutMs = options.handlerTimeoutMs ?? 10_000;
  const maxDeliver = options.maxDeliver ?? 5;

  const built = buildContext(bus, plugin as unknown as PluginDefinition<TSchema>, config, logger);
  let cleanup: PluginCleanup | undefined;
  let handle: ConsumeHandle | undefined;
  try {
    cleanup =
      (await withTimeout(
        Promise.resolve().then(() => plugin.start?.(built.ctx as never)),
        options.startTimeoutMs ?? 30_000,
        `${plugin.name} did not start`,
      )) ?? undefined;
    await built.ready();
    handle = await consume(bus, {
      stream: STREAMS.SPEAKERS.name,
      durable,
      defs,
      logger,
      maxDeliver,
      backoffMs: options.backoffMs ?? 1_000,
      create: {
        filterSubjects: defs.map((d) => d.filter),
        deliver: options.deliver ?? "new",
        // Longer than a handler may run, so the server does not redeliver while the timeout is still pending.
        ackWaitMs: Math.max(30_000, timeoutMs * 2),
      },
      handler: (delivery: Delivery) =>
        runHandler({ bus, plugin, built, durable, timeoutMs, maxDeliver }, delivery),
    });
  } catch (err) {
    await stopAll(logger, [() => handle?.stop(), cleanup, () => built.close()]);
    throw err;
  }
  logger.info({ durable, events: names }, "plugin started");
  return {
    name: plugin.name,
    durable,
    async stop() {
      await stopAll(logger, [() => handle?.stop(), cleanup, () => built.close()]);
      logger.info("plugin stopped");
    },
  };
}

interface HandlerRun<C extends TSchema> {
  bus: Bus;
  plugin: PluginDefinition<C>;
  built: BuiltContext<unknown>;
  durable: string;
  timeoutMs: number;
  maxDeliver: number;
}

async function runHandler<C extends TSchema>(run: HandlerRun<C>, delivery: Delivery): Promise<void> {
  const name = delivery.def.filter as PluginEventName;
  const handler = run.plugin.on[name] as PluginHandler<PluginEventName, unknown> | undefined;
  if (!handler) return; // not subscribed to (the filter changed while it was in flight)
  const abort = new AbortController();
  const ctx: HandlerContext<unknown> = {
    ...run.built.ctx,
    logger: delivery.logger.child({ plugin: run.plugin.name }),
    signal: abort.signal,
    event: {
      id: delivery.meta.id,
      type: delivery.meta.type,
      subject: delivery.meta.subject,
      time: delivery.meta.time,
      correlationId: delivery.meta.correlationId,
      seq: delivery.meta.seq,
      deliveryCount: delivery.meta.deliveryCount,
    },
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // A handler that throws synchronously is a failure like any other.
      Promise.resolve().then(() => handler(delivery.data as never, ctx)),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(
            new SpeakersError(
              "TIMEOUT",
              `${run.plugin.name} did not handle ${name} within ${run.timeoutMs} ms`,
            ),
          );
        }, run.timeoutMs);
      }),
    ]);
  } catch (err) {
    const last = delivery.meta.deliveryCount >= run.maxDeliver;
    if (!isPermanent(err) && !last) throw err; // consume naks with backoff
    const reason = `${run.plugin.name} failed on ${name} (delivery ${delivery.meta.deliveryCount}): ${
      err instanceof Error ? err.message : String(err)
    }`;
    const seq = await deadLetterForPlugin(run.bus, run.plugin.name, run.durable, delivery, {
      code: codeOf(err),
      reason,
    });
    ctx.logger.error({ err, deadLetterSeq: seq }, "plugin handler failed; event dead-lettered");
  } finally {
    clearTimeout(timer);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SpeakersError("TIMEOUT", `${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function codeOf(err: unknown): ErrorCode {
  return isSpeakersError(err) ? err.code : "INTERNAL";
}

async function stopAll(logger: Logger, steps: Array<undefined | (() => unknown)>): Promise<void> {
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (err) {
      logger.warn({ err }, "plugin shutdown step failed");
    }
  }
}

export interface RunPluginsOptions extends Omit<StartPluginOptions, "config"> {
  /** Raw config per plugin name. */
  config?: Record<string, unknown>;
}

export interface RunningPlugins {
  running: RunningPlugin[];
  /** Plugins that could not start (bad config, failing `start`); the others run regardless. */
  failed: Array<{ name: string; error: SpeakersError }>;
  stop(): Promise<void>;
}

/** Starts every plugin on its own; one that cannot start is reported and does not keep the others from running. */
export async function runPlugins(
  bus: Bus,
  plugins: readonly AnyPlugin[],
  options: RunPluginsOptions = {},
): Promise<RunningPlugins> {
  const { config, ...rest } = options;
  const running: RunningPlugin[] = [];
  const failed: RunningPlugins["failed"] = [];
  // Started side by side, so one slow `start` does not hold back the others.
  const results = await Promise.allSettled(
    plugins.map((plugin) =>
      startPlugin(bus, plugin as PluginDefinition<TSchema>, { ...rest, config: config?.[plugin.name] }),
    ),
  );
  results.forEach((result, index) => {
    const name = plugins[index]?.name ?? "?";
    if (result.status === "fulfilled") {
      running.push(result.value);
      return;
    }
    const err = result.reason;
    const error =
      err instanceof SpeakersError
        ? err
        : new SpeakersError("INTERNAL", `plugin ${name} failed to start: ${String(err)}`, { cause: err });
    (options.logger ?? bus.logger).error({ plugin: name, code: error.code, err }, "plugin failed to start");
    failed.push({ name, error });
  });
  return {
    running,
    failed,
    async stop() {
      await Promise.all(running.map((p) => p.stop()));
    },
  };
}
