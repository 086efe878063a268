import type { JsMsg } from "@nats-io/jetstream";
import type { Bus } from "@speakers/bus";
import { eventually } from "./eventually.js";

/**
 * Waits until DEADLETTER holds `expected` messages on `subject`, then reads them back through a fresh
 * ephemeral consumer (deleted afterwards).
 */
export async function readDeadLetters(
  bus: Bus,
  subject: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<JsMsg[]> {
  return eventually(
    async () => {
      const info = await bus.jsm.streams.info("DEADLETTER", { subjects_filter: subject });
      if ((info.state.subjects?.[subject] ?? 0) < expected) return undefined;
      const c = await bus.js.consumers.get("DEADLETTER", { filter_subjects: [subject] });
      const out: JsMsg[] = [];
      for await (const m of await c.fetch({ max_messages: expected, expires: 2_000 })) out.push(m);
      await c.delete();
      return out;
    },
    { timeoutMs, what: `${expected} dead letter(s) on ${subject}` },
  );
}
