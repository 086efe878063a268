import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "@speakers/bus";
import { ensureWorker } from "@speakers/embedding-client";
import { SpeakersError } from "@speakers/events";
import { logWorkerLine, type RunningPart } from "@speakers/runtime";

/**
 * One embedding worker the stack needs: an `embedding` service already on the bus is used as it is (nothing to
 * supervise: it never ends here), otherwise one is started (ensureWorker), its log lines turned into readable
 * log entries at their own level. The stack supervises what this returns and calls it again after a death.
 */
export async function startWorker(opts: {
  nc: NatsConnection;
  natsUrl: string;
  model: string | undefined;
  logger: Logger;
}): Promise<RunningPart> {
  const log = opts.logger.child({ component: "worker" });
  let stopping = false;
  const handle = await ensureWorker({
    nc: opts.nc,
    servers: opts.natsUrl,
    ...(opts.model === undefined ? {} : { model: modelName(opts.model) }),
    // Its own drain on stop ends with a disconnect warning: expected then, not worth a warning.
    onLog: (line) => logWorkerLine(log, line, stopping),
  });
  if (handle.started) log.info({ childPid: handle.pid }, "embedding worker started");
  else log.info("an embedding worker already answers on the bus; using it");
  return {
    pid: handle.pid,
    ended: handle.exited,
    stop: () => {
      stopping = true;
      return handle.stop();
    },
  };
}

function modelName(model: string): "ecapa" | "ge2e" {
  if (model === "ecapa" || model === "ge2e") return model;
  throw new SpeakersError("INVALID_REQUEST", `SPEAKERS_MODEL=${model} is not a model the worker knows.`, {
    hint: "Use SPEAKERS_MODEL=ecapa or SPEAKERS_MODEL=ge2e, or leave it unset for the worker's default.",
  });
}
