import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  addService,
  type Bus,
  type CallOptions,
  call,
  type EndpointRequest,
  type Logger,
  serveEndpoint,
} from "@speakers/bus";
import { type MessageDefinition, type PayloadOf, SpeakersError } from "@speakers/events";
import { type AudioLookup, type FetchedAudio, fetchAudio } from "./audio.js";
import type { PluginDefinition } from "./define.js";
import { openPluginKv, type PluginKv } from "./kv.js";
import { openPluginObjects, type PluginObjects } from "./objects.js";

/** Where a delivered event came from (CloudEvents headers and its place in the stream). */
export interface EventEnvelope {
  id: string;
  type: string;
  subject: string;
  /** ce-time: when the event was published. */
  time: string;
  correlationId: string;
  seq: number;
  deliveryCount: number;
}

export interface ServeRequest {
  /** The JSON request, validated (defaults applied) when the endpoint declared a schema. */
  data: unknown;
  body: Uint8Array;
  headers: Record<string, string>;
}

export interface PluginContext<Config> {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  /** The plugin's own KV bucket (see `kv` in the definition). */
  kv(): Promise<PluginKv>;
  /** The plugin's own Object Store bucket (see `objects` in the definition). */
  objects(): Promise<PluginObjects>;
  /** Publishes JSON on the plugin's own subjects only: `plugin.<name>.<suffix>` (core NATS, not stored). */
  publish(suffix: string, payload: unknown): void;
  /** Answers request/reply on `speakers.<name>.<endpoint>` (an ADR-32 micro service named after the plugin). */
  serve(endpoint: string, handler: (req: ServeRequest) => unknown | Promise<unknown>, schema?: TSchema): void;
  /** A typed request to another service, e.g. the registry's `enroll`. */
  call<Req extends MessageDefinition, Rep extends MessageDefinition>(
    subject: string,
    options: CallOptions<Req, Rep>,
  ): Promise<PayloadOf<Rep>>;
  /** The audio of the clip an event came from (e.g. `ctx.audio(identified)`). */
  audio(lookup: AudioLookup): Promise<FetchedAudio>;
}

export interface HandlerContext<Config> extends PluginContext<Config> {
  readonly event: EventEnvelope;
  /** Aborted when the handler ran past its timeout: stop work that is no longer awaited. */
  readonly signal: AbortSignal;
}

type Service = Awaited<ReturnType<typeof addService>>;
type ServiceGroup = ReturnType<Service["addGroup"]>;

export interface BuiltContext<Config> {
  ctx: PluginContext<Config>;
  /** Resolves when every endpoint passed to `serve` so far is subscribed (or rejects if one failed). */
  ready(): Promise<void>;
  /** Stops the micro service, if the plugin served any endpoint. */
  close(): Promise<void>;
}

const SUFFIX = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

export function buildContext<Config>(
  bus: Bus,
  plugin: PluginDefinition<TSchema>,
  config: Config,
  logger: Logger,
): BuiltContext<Config> {
  let kv: Promise<PluginKv> | undefined;
  let objects: Promise<PluginObjects> | undefined;
  let service: Promise<{ service: Service; group: ServiceGroup }> | undefined;
  const registrations: Promise<unknown>[] = [];
  const prefix = `speakers.${plugin.name}`;

  const openService = () => {
    service ??= addService(bus, {
      name: plugin.name,
      version: plugin.version,
      description: plugin.description ?? `speakers plugin ${plugin.name}`,
      queue: plugin.name,
    }).then((svc) => ({ service: svc, group: svc.addGroup(prefix) }));
    return service;
  };

  const ctx: PluginContext<Config> = {
    name: plugin.name,
    config,
    logger,
    kv() {
      kv ??= openPluginKv(bus, plugin.kv?.bucket ?? `plugin-${plugin.name}`, plugin.kv ?? {});
      return kv;
    },
    objects() {
      objects ??= openPluginObjects(
        bus,
        plugin.objects?.bucket ?? `plugin-${plugin.name}`,
        plugin.objects ?? {},
      );
      return objects;
    },
    publish(suffix, payload) {
      if (!SUFFIX.test(suffix)) {
        throw new SpeakersError(
          "INVALID_REQUEST",
          `plugin subject suffix "${suffix}" must be dot-separated [a-z0-9_-] tokens`,
        );
      }
      bus.nc.publish(`plugin.${plugin.name}.${suffix}`, JSON.stringify(payload));
    },
    serve(endpoint, handler, schema) {
      registrations.push(
        openService().then(({ group }) =>
          serveEndpoint(bus, group, endpoint, {
            logger,
            handler: async (req: EndpointRequest<undefined>) =>
              ((await handler(parseRequest(req, schema))) ?? {}) as object,
          }),
        ),
      );
    },
    call: (subject, options) => call(bus, subject, options),
    audio: (lookup) => fetchAudio(bus, lookup),
  };
  return {
    ctx,
    async ready() {
      await Promise.all(registrations);
      // The subscriptions must reach the server before a client's first request.
      await bus.nc.flush();
    },
    async close() {
      if (service) await (await service).service.stop();
    },
  };
}

/** The request body as JSON (empty body: `{}`), checked against the endpoint's schema with its defaults. */
function parseRequest(req: EndpointRequest<undefined>, schema: TSchema | undefined): ServeRequest {
  let data: unknown = {};
  if (req.body.length > 0) {
    try {
      data = JSON.parse(new TextDecoder().decode(req.body));
    } catch (err) {
      throw new SpeakersError("INVALID_REQUEST", "The request body is not JSON.", { cause: err });
    }
  }
  if (schema) data = checkSchema(schema, data, "INVALID_REQUEST", "request");
  return { data, body: req.body, headers: req.headers };
}

/** Applies the schema's defaults, then validates; the error names every offending path. */
export function checkSchema(schema: TSchema, value: unknown, code: "INVALID_REQUEST", what: string): unknown {
  const withDefaults = Value.Default(schema, Value.Clone(value ?? {}));
  if (Value.Check(schema, withDefaults)) return withDefaults;
  const issues = [...Value.Errors(schema, withDefaults)]
    .slice(0, 10)
    .map((e) => ({ path: e.path, message: e.message }));
  throw new SpeakersError(
    code,
    `The ${what} is invalid: ${issues.map((i) => `${i.path || "/"}: ${i.message}`).join("; ")}`,
    {
      details: { issues },
    },
  );
}
