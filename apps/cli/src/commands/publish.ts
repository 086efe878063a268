import { publishFiles } from "@speakers/audio-capture";
import { fromErrorPayload } from "@speakers/events";
import type { EmbeddedStack } from "../embedded-stack.js";
import { describeError, type Output } from "../output.js";
import { progressBar } from "../progress.js";

export interface PublishOptions {
  device?: string;
  room?: string;
  transcript?: string;
  json?: boolean;
}

/**
 * `speakers publish <files…>`: each file goes out as one `audio.captured` event, as if a microphone in `--room`
 * had heard it, so the worker and registry identify it like live audio. A bad file is reported and the rest
 * still go; the exit code is 1 when any file was refused.
 */
export async function publishCommand(stack: EmbeddedStack, out: Output, files: string[], o: PublishOptions) {
  const bar = files.length > 1 && !o.json ? progressBar("publishing") : undefined;
  const results = await publishFiles(stack.bus, files, {
    ...(o.device === undefined ? {} : { deviceId: o.device }),
    ...(o.room === undefined ? {} : { room: o.room }),
    ...(o.transcript === undefined ? {} : { transcript: o.transcript }),
    onResult: (_result, index, total) => bar?.update(index + 1, total),
  });
  bar?.stop();
  if (o.json) {
    const rows = results.map((r) =>
      r.ok
        ? { file: r.file, ok: true, id: r.id, subject: r.subject, duplicate: r.duplicate }
        : { file: r.file, ok: false, error: r.error },
    );
    out.out(JSON.stringify(rows, null, 2));
  } else {
    for (const r of results) {
      if (r.ok) out.out(`${r.file}: published as ${r.id}${r.duplicate ? " (already published)" : ""}`);
      else out.err(`${r.file}: ${describeError(fromErrorPayload(r.error))}`);
    }
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}
