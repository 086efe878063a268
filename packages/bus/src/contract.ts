import type { JsMsg } from "@nats-io/jetstream";
import {
  type ContractDefinition,
  decodeJson,
  decodeMeta,
  HEADERS,
  isSpeakersError,
  type PayloadOf,
  SpeakersError,
} from "@speakers/events";
import type { EventMeta } from "./event-meta.js";

export type Decoded<D extends ContractDefinition> =
  | { ok: true; def: D; data: PayloadOf<D> }
  | { ok: false; error: SpeakersError };

/** The payload of a message: the JSON body, or the `Speakers-Meta` header when the body is audio (ADR rule 3). */
export function decodePayload<D extends ContractDefinition>(
  def: D,
  body: Uint8Array,
  metaHeader: string | undefined,
): PayloadOf<D> {
  return def.body === "audio" ? decodeMeta(def, metaHeader) : decodeJson(def, body);
}

/** Finds the definition by ce-type and validates; every failure is an INVALID_EVENT that says what is wrong. */
export function decodeEvent<D extends ContractDefinition>(
  defs: readonly D[],
  msg: JsMsg,
  meta: EventMeta,
): Decoded<D> {
  const def = defs.find((d) => d.typeId === meta.type);
  if (!def) {
    const reason = meta.type
      ? `unexpected ce-type ${meta.type} (this consumer accepts ${defs.map((d) => d.typeId).join(", ")})`
      : "missing ce-type header";
    return { ok: false, error: new SpeakersError("INVALID_EVENT", reason) };
  }
  try {
    return { ok: true, def, data: decodePayload(def, msg.data, msg.headers?.get(HEADERS.meta) || undefined) };
  } catch (err) {
    if (isSpeakersError(err)) return { ok: false, error: err };
    return { ok: false, error: new SpeakersError("INVALID_EVENT", String(err), { cause: err }) };
  }
}
