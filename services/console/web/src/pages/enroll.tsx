import type { EnrollReply, SpeakerSummary } from "@speakers/events";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { type Microphone, openMicrophone } from "../recorder.js";
import { ErrorBox, score, seconds } from "../ui.js";

/** Read aloud, one per sample: varied sounds and a natural length (5-10 s each). */
const PHRASES = [
  "The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun.",
  "Please remind me to water the plants on the balcony and to call grandma on Sunday.",
  "Turn the kitchen lights down a little and play some quiet music while we cook dinner.",
  "My favourite place to walk is along the river, where the trees are tall and the air is cool.",
];

interface SampleResult {
  label: string;
  reply?: EnrollReply;
  error?: ErrorPayload;
}

function hashParams(): URLSearchParams {
  return new URLSearchParams(location.hash.split("?")[1] ?? "");
}

export function EnrollPage() {
  const params = hashParams();
  const [name, setName] = useState(params.get("name") ?? "");
  const [speaker, setSpeaker] = useState<SpeakerSummary | undefined>();
  const [speakerId, setSpeakerId] = useState<string | undefined>(params.get("speaker") ?? undefined);
  const [results, setResults] = useState<SampleResult[]>([]);
  const [busy, setBusy] = useState<string>();
  const [recording, setRecording] = useState<number>();
  const [level, setLevel] = useState(0);
  const [error, setError] = useState<ErrorPayload>();
  const mic = useRef<Promise<Microphone> | undefined>(undefined);
  const [done, setDone] = useState<ReadonlySet<number>>(new Set());

  useEffect(
    () => () => {
      void mic.current?.then((m) => m.close()).catch(() => {});
    },
    [],
  );

  /** One sample at a time, so each gets its verdict as soon as the registry has it. */
  const upload = async (audio: Blob, label: string, contentType?: string) => {
    setBusy(label);
    try {
      const path = speakerId
        ? `/api/speakers/${encodeURIComponent(speakerId)}/samples?label=${encodeURIComponent(label)}`
        : `/api/enroll?name=${encodeURIComponent(name.trim())}&label=${encodeURIComponent(label)}`;
      const reply = await api<EnrollReply>("POST", path, audio, contentType);
      if (reply.speaker) {
        setSpeaker(reply.speaker);
        setSpeakerId(reply.speaker.id);
      }
      setResults((r) => [...r, { label, reply }]);
      return reply;
    } catch (err) {
      setResults((r) => [...r, { label, error: errorOf(err) }]);
      return undefined;
    } finally {
      setBusy(undefined);
    }
  };

  const record = async (index: number) => {
    setError(undefined);
    if (!speakerId && name.trim() === "") {
      setError({ code: "INVALID_REQUEST", message: "Type the speaker's name first." });
      return;
    }
    try {
      mic.current ??= openMicrophone((rms) => setLevel(rms));
      (await mic.current).startTake();
      setRecording(index);
    } catch (err) {
      mic.current = undefined;
      setError({
        code: "AUDIO_EMPTY",
        message: `The microphone could not be opened: ${errorOf(err).message}`,
        hint: "Allow the microphone for this page, or upload recordings below.",
      });
    }
  };
  const stop = async (index: number) => {
    const m = await mic.current;
    setRecording(undefined);
    if (!m) return;
    const { wav } = m.endTake();
    const reply = await upload(wav, `phrase-${index + 1}.wav`, "audio/wav");
    if (reply?.quality[0]?.accepted) setDone((d) => new Set([...d, index]));
  };
  const uploadFiles = async (files: FileList | null) => {
    if (!files) return;
    if (!speakerId && name.trim() === "") {
      setError({ code: "INVALID_REQUEST", message: "Type the speaker's name first." });
      return;
    }
    setError(undefined);
    for (const file of Array.from(files))
      await upload(file, file.name, file.type || "application/octet-stream");
  };

  const last = [...results].reverse().find((r) => r.reply)?.reply;
  const accepted = results.filter((r) => r.reply?.quality[0]?.accepted).length;
  const overall = last?.feedback.filter((f) => f.index === undefined) ?? [];
  const db = level > 0 ? Math.max(-60, 20 * Math.log10(level)) : -60;

  return (
    <section class="enroll">
      <ErrorBox error={error} />
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <label for="enroll-name">Name</label>
        <input
          id="enroll-name"
          value={name}
          disabled={speakerId !== undefined}
          onInput={(e) => setName(e.currentTarget.value)}
          placeholder="e.g. Alice"
          maxLength={200}
          required
        />
      </form>

      <h3>Record with the microphone</h3>
      <p class="muted">
        Read each phrase aloud in your normal voice, about as far from the microphone as you usually are.
      </p>
      <div class="meter" aria-hidden={recording === undefined}>
        <label for="level">Input level</label>
        <meter id="level" min={-60} max={0} low={-40} high={-6} optimum={-20} value={db}>
          {db.toFixed(0)} dB
        </meter>
      </div>
      <ol class="phrases">
        {PHRASES.map((phrase, i) => (
          <li key={phrase} class={done.has(i) ? "done" : undefined}>
            <p>“{phrase}”</p>
            {recording === i ? (
              <button type="button" class="danger" onClick={() => stop(i)}>
                Stop phrase {i + 1}
              </button>
            ) : (
              <button
                type="button"
                onClick={() => record(i)}
                disabled={recording !== undefined || busy !== undefined}
              >
                Record phrase {i + 1}
              </button>
            )}
          </li>
        ))}
      </ol>

      <h3>Or upload recordings</h3>
      <label class="file">
        <span>Choose audio files (WAV, FLAC, Ogg, MP3, M4A, WebM)</span>
        <input
          type="file"
          accept="audio/*,.wav,.flac,.ogg,.opus,.mp3,.m4a,.webm"
          multiple
          disabled={busy !== undefined || recording !== undefined}
          onChange={(e) => uploadFiles(e.currentTarget.files)}
        />
      </label>

      <h3>Progress</h3>
      <output class="progress">
        {busy ? <p class="busy">Checking {busy}…</p> : null}
        <p>
          <progress max={3} value={Math.min(3, speaker?.samples ?? accepted)} />{" "}
          {speaker?.samples ?? accepted} accepted sample(s)
          {last?.complete ? <strong class="ok"> · enrollment complete</strong> : null}
        </p>
        {overall.map((f) => (
          <p class="hint" key={f.code}>
            <code>{f.code}</code> {f.message}
          </p>
        ))}
        {last?.complete && speaker ? (
          <p>
            {speaker.name} is enrolled. <a href="#/speakers">See all speakers</a>.
          </p>
        ) : null}
      </output>
      <ul class="feedback" aria-label="Sample feedback">
        {results.map((r, i) => (
          <Feedback key={`${r.label}-${i}`} result={r} />
        ))}
      </ul>
    </section>
  );
}

function Feedback({ result }: { result: SampleResult }) {
  if (result.error) {
    return (
      <li class="sample rejected" data-code={result.error.code}>
        <strong>{result.label}</strong>: not accepted <code>{result.error.code}</code> {result.error.message}
        {result.error.hint ? <p class="hint">{result.error.hint}</p> : null}
      </li>
    );
  }
  const q = result.reply?.quality[0];
  const advice = result.reply?.feedback.find((f) => f.index === 0);
  const ok = q?.accepted === true;
  return (
    <li class={`sample ${ok ? "accepted" : "rejected"}`} data-code={q?.code ?? (ok ? "ACCEPTED" : "")}>
      <strong>{result.label}</strong>: {ok ? "accepted" : "not accepted"} · {seconds(q?.durationMs)} long
      {q?.speechMs !== undefined ? `, ${seconds(q.speechMs)} of speech` : ""}
      {q?.similarity !== undefined ? ` · matches the other samples at ${score(q.similarity)}` : ""}
      {advice ? (
        <p class="hint">
          <code>{advice.code}</code> {advice.message} {advice.hint}
        </p>
      ) : null}
    </li>
  );
}
