import type { EnrollmentProgress } from "@speakers/events";
import { newEnrollmentId, registryClient } from "@speakers/registry-client";
import type { EmbeddedStack } from "../embedded-stack.js";
import type { Output } from "../output.js";
import { progressBar } from "../progress.js";

export async function enrollCommand(
  stack: EmbeddedStack,
  out: Output,
  name: string,
  files: string[],
  options: { new?: boolean; json?: boolean },
): Promise<void> {
  const enrollmentId = newEnrollmentId();
  const bar = progressBar("embedding");
  // Follow this enrollment's progress events while the request runs.
  const sub = stack.bus.nc.subscribe("speaker.enrollment.progress");
  void (async () => {
    for await (const m of sub) {
      const p = JSON.parse(new TextDecoder().decode(m.data)) as EnrollmentProgress;
      if (p.enrollmentId === enrollmentId) bar.update(p.done, p.total);
    }
  })();
  try {
    const reply = await registryClient(stack.bus).enrollFiles(name, files, {
      enrollmentId,
      ...(options.new ? { createOnly: true } : {}),
    });
    bar.stop();
    if (options.json) {
      out.out(JSON.stringify(reply, null, 2));
      return;
    }
    const s = reply.speaker;
    out.out(
      `${s?.name} (${s?.id}): ${reply.result.samplesAccepted} of ${files.length} samples accepted, ${s?.samples} in total${reply.complete ? "" : " (needs more speech)"}`,
    );
    for (const f of reply.feedback) {
      const which = f.index === undefined ? "" : `${files[f.index] ?? `sample ${f.index}`}: `;
      out.out(`  ${f.code}: ${which}${f.message}${f.hint ? `\n    hint: ${f.hint}` : ""}`);
    }
  } finally {
    bar.stop();
    sub.unsubscribe();
  }
}
