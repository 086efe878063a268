/** Header names of ADR 0001: CloudEvents binary mode, JetStream dedupe, our metadata and micro service errors. */
export const HEADERS = {
  ceSpecVersion: "ce-specversion",
  ceId: "ce-id",
  ceType: "ce-type",
  ceSource: "ce-source",
  ceTime: "ce-time",
  ceDataContentType: "ce-datacontenttype",
  ceCorrelationId: "ce-correlationid",
  natsMsgId: "Nats-Msg-Id",
  /** JSON metadata of a message whose body is audio (ADR rule 3). */
  meta: "Speakers-Meta",
  deadReason: "Speakers-Dead-Reason",
  deadCode: "Speakers-Dead-Code",
  serviceError: "Nats-Service-Error",
  serviceErrorCode: "Nats-Service-Error-Code",
} as const;

export const CE_SPEC_VERSION = "1.0";
export const JSON_CONTENT_TYPE = "application/json";
