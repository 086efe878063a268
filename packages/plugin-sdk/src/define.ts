import type { Static, TObject, TSchema } from "@sinclair/typebox";
import type { HandlerContext, PluginContext } from "./context.js";
import type { PluginEvent, PluginEventName } from "./events.js";

export type PluginHandler<N extends PluginEventName, Config> = (
  event: PluginEvent<N>,
  ctx: HandlerContext<Config>,
) => unknown | Promise<unknown>;

export type PluginHandlers<Config> = { [N in PluginEventName]?: PluginHandler<N, Config> };

/** Returned by `start`: undone when the plugin stops (close a connection, flush state). */
export type PluginCleanup = () => unknown | Promise<unknown>;

export interface PluginStorage {
  /** Bucket name; default `plugin-<name>`. A plugin may name one of ADR 0001's buckets (presence does). */
  bucket?: string;
  history?: number;
  /** Entries older than this are removed by the server. */
  ttlMs?: number;
  maxBytes?: number;
}

export interface PluginDefinition<C extends TSchema = TObject> {
  /** Lowercase `[a-z0-9-]`; names the durable consumer `plugin-<name>`, its buckets, subjects and dead letters. */
  name: string;
  version: string;
  description?: string;
  /** TypeBox schema of the config; defaults in it are applied, and a config that fails it stops only this plugin. */
  config?: C;
  /** The plugin's KV bucket (created on start when declared or first used). */
  kv?: PluginStorage;
  /** The plugin's Object Store bucket, for blobs such as audio clips. */
  objects?: Omit<PluginStorage, "history">;
  /** One handler per event subject; each runs with a timeout, and its failures go to the plugin's dead letters. */
  on: PluginHandlers<Static<C>>;
  /** Runs before the first event: connect to outside systems, serve request/reply endpoints. */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async start() that returns nothing is a Promise<void>.
  start?: (ctx: PluginContext<Static<C>>) => void | PluginCleanup | Promise<void | PluginCleanup>;
}

/** Declares a plugin; the identity function that gives `on` handlers their typed events and config. */
export function definePlugin<C extends TSchema = TObject>(plugin: PluginDefinition<C>): PluginDefinition<C> {
  return plugin;
}

/**
 * Any plugin, whatever its config type: what `runPlugins` takes. (A `PluginDefinition<C>` is not a
 * `PluginDefinition<TSchema>`, because its handlers accept only their own config.)
 */
export interface AnyPlugin {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly config?: TSchema;
  readonly kv?: PluginStorage;
  readonly objects?: Omit<PluginStorage, "history">;
  readonly on: { readonly [N in PluginEventName]?: (event: never, ctx: never) => unknown };
  readonly start?: (ctx: never) => unknown;
}
