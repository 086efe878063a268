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

/** What a domain's definitions leave out: their name and `typeId` are given apart, a JSON body is the default. */
type DomainSpec<D> = Omit<D, "kind" | "name" | "typeId" | "body" | "stream"> & { body?: BodyKind };

/** Events of one domain, published to `stream`: `event(name, type, spec)` has the `typeId` `speakers.<domain>.<type>.v1`. */
export function eventsOf(domain: string, stream: StreamName) {
  return <S extends TSchema, A extends unknown[]>(
    name: string,
    type: string,
    spec: DomainSpec<EventDefinition<S, A>>,
  ): EventDefinition<S, A> =>
    defineEvent({ name, typeId: `speakers.${domain}.${type}.v1`, stream, body: "json", ...spec });
}

/** Request and reply payloads of one domain: `message(name, type, spec)` has the `typeId` `speakers.<domain>.<type>.v1`. */
export function messagesOf(domain: string) {
  return <S extends TSchema>(
    name: string,
    type: string,
    spec: DomainSpec<MessageDefinition<S>>,
  ): MessageDefinition<S> => defineMessage({ name, typeId: `speakers.${domain}.${type}.v1`, ...spec });
}

/** The subject fields of an event that is always published on the one `subject`. */
export function onSubject(subject: string) {
  return { filter: subject, subject: () => subject, subjectFor: () => subject };
}

export function defineMessage<S extends TSchema>(
  spec: Omit<MessageDefinition<S>, "kind" | "body"> & { body?: BodyKind },
): MessageDefinition<S> {
  return Object.freeze({ kind: "message", body: "json", ...spec });
}
