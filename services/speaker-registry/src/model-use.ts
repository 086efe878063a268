/**
 * `speakers.registry.model.use`: the one way the live model changes. The registry resolves the name, checks
 * there are voiceprints and a worker of the model, and writes `registry-state`; every replica follows.
 */
import { type ModelUseReply, type ModelUseRequest, modelKey, resolveModel } from "@speakers/events";
import type { RegistryContext } from "./context.js";
import { switchLiveModel } from "./live-model.js";

export async function useModel(ctx: RegistryContext, request: ModelUseRequest): Promise<ModelUseReply> {
  // An unknown name is INVALID_REQUEST with the names and keys this system knows.
  const model = resolveModel(request.model);
  const result = await switchLiveModel({ bus: ctx.bus }, model);
  ctx.logger.info(
    {
      from: result.from ? modelKey(result.from) : null,
      to: modelKey(result.to),
      voiceprints: result.voiceprints,
    },
    "live model switched",
  );
  return {
    ...(result.from === undefined ? {} : { from: result.from }),
    to: result.to,
    voiceprints: result.voiceprints,
  };
}
