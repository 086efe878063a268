import type { EmbeddedStack } from "../embedded-stack.js";
import type { Output } from "../output.js";

/** Live speaker events until Ctrl-C (or until `signal` aborts). */
export async function watchCommand(
  stack: EmbeddedStack,
  out: Output,
  o: { json?: boolean },
  signal?: AbortSignal,
) {
  const sub = stack.bus.nc.subscribe("speaker.>");
  const stop = () => sub.unsubscribe();
  process.once("SIGINT", stop);
  signal?.addEventListener("abort", stop);
  out.err(`Watching speaker events on ${stack.url} (Ctrl-C to stop)`);
  for await (const m of sub) {
    const text = new TextDecoder().decode(m.data);
    if (o.json) {
      out.out(JSON.stringify({ subject: m.subject, data: JSON.parse(text) }));
      continue;
    }
    out.out(describeEvent(m.subject, JSON.parse(text) as Record<string, unknown>));
  }
  process.removeListener("SIGINT", stop);
}

function describeEvent(subject: string, e: Record<string, unknown>): string {
  const time = new Date().toISOString().slice(11, 19);
  const speaker = e.speaker as { name?: string } | undefined;
  const score = typeof e.score === "number" ? e.score.toFixed(3) : "";
  switch (subject) {
    case "speaker.identified":
      return `${time} identified ${e.decision === "known" ? speaker?.name : "unknown voice"} (score ${score})`;
    case "speaker.enrollment.progress":
      return `${time} enrolling ${e.speakerId}: ${e.stage} ${e.done}/${e.total}`;
    default:
      return `${time} ${subject.replace(/^speaker\./, "")} ${e.name ?? e.speakerId ?? ""}`;
  }
}
