import type { Static, TSchema } from "@sinclair/typebox";
import type { StreamName } from "./topology.js";

/** `json`: the payload is the JSON body. `audio`: the body is audio and the payload rides in `Speakers-Meta`. */
export type BodyKind = "json" | "audio";

interface DefinitionBase<S extends TSchema> {
  /** PascalCase name, also the exported file name: `schemas/<name>.schema.json`. */
  readonly name: string;
  /** `speakers.<domain>.<name>.v<n>`, sent as `ce-type` and exported as the schema's `$id`. */
  readonly typeId: string;
  readonly description: string;
  readonly body: BodyKind;
  readonly schema: S;
  /** A valid example; the round-trip check fails without one. */
  readonly fixture: Static<S>;
}

/** A message published to a JetStream stream. */
export interface EventDefinition<S extends TSchema = TSchema, A extends unknown[] = unknown[]>
  extends DefinitionBase<S> {
  readonly kind: "event";
  readonly stream: StreamName;
  /** Matches every subject this event is published on, e.g. `audio.captured.>`. */
  readonly filter: string;
  /** The subject to publish on, from its variable tokens. */
  subject(...tokens: A): string;
  /** The subject a given payload is published on. */
  subjectFor(payload: Static<S>): string;
}

/** A request or reply payload of a micro service endpoint. */
export interface MessageDefinition<S extends TSchema = TSchema> extends DefinitionBase<S> {
  readonly kind: "message";
}

export type ContractDefinition = EventDefinition | MessageDefinition;

/** The payload type a definition describes. */
export type PayloadOf<D extends { readonly schema: TSchema }> = Static<D["schema"]>;

export function defineEvent<S extends TSchema, A extends unknown[]>(
  spec: Omit<EventDefinition<S, A>, "kind">,
): EventDefinition<S, A> {
  return Object.freeze({ kind: "event", ...spec });
}

export function defineMessage<S extends TSchema>(
  spec: Omit<MessageDefinition<S>, "kind" | "body"> & { body?: BodyKind },
): MessageDefinition<S> {
  return Object.freeze({ kind: "message", body: "json", ...spec });
}
