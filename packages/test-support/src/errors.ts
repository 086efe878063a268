/** The command that puts the pinned nats-server where the harness looks first. */
export const INSTALL_COMMAND =
  "GOBIN=$HOME/.local/share/speakers/bin go install github.com/nats-io/nats-server/v2@v2.12.15";

export type NatsTestingErrorCode =
  | "NATS_SERVER_NOT_FOUND"
  | "NATS_SERVER_START_FAILED"
  | "NATS_SERVER_STOPPED"
  | "NATS_CONTAINER_FAILED";

/** A harness failure with a stable code, so a test can tell a missing binary from a crashed server. */
export class NatsTestingError extends Error {
  override readonly name = "NatsTestingError";
  constructor(
    readonly code: NatsTestingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
