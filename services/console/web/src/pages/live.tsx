import type { SpeakerIdentified } from "@speakers/events";
import { useEffect, useState } from "preact/hooks";
import { score, when } from "../ui.js";

interface FeedItem {
  seq: number;
  time: string;
  event: SpeakerIdentified & { scoring?: { confidence?: number } };
}

const KEEP = 200;

/** Who is speaking, as the registry decides it; EventSource resumes with Last-Event-ID after a drop. */
export function LivePage() {
  const [items, setItems] = useState<FeedItem[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "reconnecting">("connecting");
  useEffect(() => {
    const source = new EventSource("/api/live");
    source.addEventListener("ready", () => setState("live"));
    source.addEventListener("identified", (e) => {
      const item = JSON.parse((e as MessageEvent<string>).data) as FeedItem;
      setItems((list) => [item, ...list].slice(0, KEEP));
    });
    source.onerror = () => setState("reconnecting");
    source.onopen = () => setState("live");
    return () => source.close();
  }, []);
  return (
    <section>
      <output class={`status ${state}`} data-state={state}>
        {state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"}
      </output>
      {items.length === 0 ? <p class="muted">Nobody has spoken yet.</p> : null}
      <ol class="feed" aria-label="Identifications, newest first">
        {items.map(({ seq, time, event }) => {
          const known = event.decision === "known" && event.speaker;
          const confidence = event.scoring?.confidence;
          return (
            <li
              key={seq}
              class={known ? "known" : "unknown"}
              data-seq={seq}
              data-source={event.sourceEventId}
              data-speaker={event.speaker?.id}
            >
              <strong class="who">{known ? event.speaker?.name : "Unknown voice"}</strong>
              <span class="where">
                {event.source?.room ?? "?"}
                {event.source?.deviceId ? ` · ${event.source.deviceId}` : ""}
              </span>
              <span class="score">
                score {score(event.score)} (needs {score(event.threshold)})
                {confidence !== undefined
                  ? ` · confidence ${(confidence * 100).toFixed(0)} %`
                  : ` · margin ${score(event.margin)}`}
              </span>
              <time dateTime={event.capturedAt ?? time}>{when(event.capturedAt ?? time)}</time>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
