import type { EnrollReply, SpeakerSummary, UnknownClip } from "@speakers/events";
import { useEffect, useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { ErrorBox, NameField, Outcome, score, seconds, when } from "../ui.js";

const NEW = "__new__";

export function UnknownPage() {
  const [clips, setClips] = useState<UnknownClip[]>();
  const [speakers, setSpeakers] = useState<SpeakerSummary[]>([]);
  const [error, setError] = useState<ErrorPayload>();
  const [notice, setNotice] = useState<string>();
  const load = async () => {
    try {
      const [list, people] = await Promise.all([
        api<{ clips: UnknownClip[] }>("GET", "/api/unknown"),
        api<{ speakers: SpeakerSummary[] }>("GET", "/api/speakers"),
      ]);
      setClips(list.clips);
      setSpeakers(people.speakers);
      setError(undefined);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  return (
    <section>
      <Outcome error={error} notice={notice} />
      <button type="button" class="secondary" onClick={load}>
        Refresh
      </button>
      {clips === undefined ? (
        <p class="loading">Loading…</p>
      ) : clips.length === 0 ? (
        <p class="muted">No unknown voices are waiting.</p>
      ) : (
        <ul class="cards" aria-label="Unknown voices">
          {clips.map((c) => (
            <ClipCard
              key={c.clipId}
              clip={c}
              speakers={speakers}
              onDone={(text) => {
                setNotice(text);
                return load();
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function ClipCard({
  clip,
  speakers,
  onDone,
}: {
  clip: UnknownClip;
  speakers: SpeakerSummary[];
  onDone: (notice: string) => Promise<void>;
}) {
  const [choice, setChoice] = useState(speakers[0]?.name ?? NEW);
  const [newName, setNewName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorPayload>();
  const [refused, setRefused] = useState<EnrollReply>();
  const id = encodeURIComponent(clip.clipId);
  const assign = async (e: Event) => {
    e.preventDefault();
    const name = choice === NEW ? newName.trim() : choice;
    if (name === "") return;
    setBusy(true);
    try {
      const r = await api<{ enrolled: boolean; reply: EnrollReply }>("POST", `/api/unknown/${id}/name`, {
        name,
      });
      if (r.enrolled) await onDone(`The voice is now a sample of ${name}.`);
      else setRefused(r.reply);
    } catch (err) {
      setError(errorOf(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    try {
      await api("DELETE", `/api/unknown/${id}`);
      await onDone("The clip was deleted.");
    } catch (err) {
      setError(errorOf(err));
    }
  };
  // Stored clips name candidates by ref only (ADR 0004); the registry's list says whose ref it is, while they exist.
  const closestRef = clip.candidates[0];
  const closest = closestRef && {
    name: speakers.find((s) => s.ref === closestRef.ref)?.name ?? "someone erased",
    score: closestRef.score,
  };
  return (
    <li class="card clip" data-clip={clip.clipId} data-source={clip.sourceEventId}>
      <h3>
        {when(clip.capturedAt)}
        {clip.room ? ` in ${clip.room}` : ""}
      </h3>
      {/* biome-ignore lint/a11y/useMediaCaption: an unknown voice's clip has no caption file; its transcript, when capture had one, is shown as text */}
      <audio controls preload="none" src={`/api/unknown/${id}/audio`} aria-label="Play the clip" />
      {clip.transcript ? <p class="transcript">“{clip.transcript}”</p> : null}
      <p class="muted">
        {seconds(clip.durationMs)} from {clip.deviceId ?? "?"}
        {closest ? ` · closest: ${closest.name} (${score(closest.score)})` : ""}
      </p>
      <form class="assign" onSubmit={assign}>
        <label for={`who-${clip.clipId}`}>Who is this?</label>
        <select id={`who-${clip.clipId}`} value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
          {speakers.map((s) => (
            <option key={s.id} value={s.name}>
              {s.name}
            </option>
          ))}
          <option value={NEW}>A new speaker…</option>
        </select>
        {choice === NEW ? (
          <NameField id={`new-${clip.clipId}`} label="Name" value={newName} onValue={setNewName} />
        ) : null}
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Assigning…" : "Assign"}
          </button>
          <button type="button" class="danger" onClick={remove} disabled={busy}>
            Delete clip
          </button>
        </div>
      </form>
      {refused ? (
        <div class="error" role="alert">
          <strong>The registry did not accept this clip as a sample.</strong>
          {refused.feedback.map((f) => (
            <p key={f.code}>
              <code>{f.code}</code> {f.message} {f.hint}
            </p>
          ))}
        </div>
      ) : null}
      <ErrorBox error={error} />
    </li>
  );
}
