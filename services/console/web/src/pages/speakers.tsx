import type { SpeakerSummary } from "@speakers/events";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { count, ErrorBox, NameField, Outcome, when } from "../ui.js";

type Listed = SpeakerSummary & { lastHeard?: { at: string; room?: string; deviceId?: string } };
interface Erases {
  samples: number;
  voiceprints: number;
  clips: number;
}

export function SpeakersPage() {
  const [list, setList] = useState<{ speakers: Listed[]; presence: boolean }>();
  const [error, setError] = useState<ErrorPayload>();
  const [notice, setNotice] = useState<string>();
  const load = () =>
    api<{ speakers: Listed[]; presence: boolean }>("GET", "/api/speakers").then(
      (l) => {
        setList(l);
        setError(undefined);
      },
      (e) => setError(errorOf(e)),
    );
  useEffect(() => {
    void load();
  }, []);

  return (
    <section>
      <Outcome error={error} notice={notice} />
      {list === undefined ? (
        <p class="loading">Loading…</p>
      ) : list.speakers.length === 0 ? (
        <p>
          Nobody is enrolled yet. <a href="#/enroll">Enroll a voice</a>.
        </p>
      ) : (
        <ul class="cards" aria-label="Enrolled speakers">
          {list.speakers.map((s) => (
            <SpeakerCard key={s.id} speaker={s} onChanged={load} onNotice={setNotice} />
          ))}
        </ul>
      )}
      {list && !list.presence ? (
        <p class="muted">Last-heard times are unavailable (the presence plugin is not running).</p>
      ) : null}
    </section>
  );
}

function SpeakerCard({
  speaker,
  onChanged,
  onNotice,
}: {
  speaker: Listed;
  onChanged: () => Promise<void>;
  onNotice: (text: string) => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(speaker.name);
  const [error, setError] = useState<ErrorPayload>();
  const [erases, setErases] = useState<Erases>();
  const dialog = useRef<HTMLDialogElement>(null);

  const rename = async (e: Event) => {
    e.preventDefault();
    try {
      await api("PATCH", `/api/speakers/${encodeURIComponent(speaker.id)}`, { name });
      setRenaming(false);
      onNotice(`Renamed ${speaker.name} to ${name}.`);
      await onChanged();
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const askErase = async () => {
    try {
      const detail = await api<{ erases: Erases }>("GET", `/api/speakers/${encodeURIComponent(speaker.id)}`);
      setErases(detail.erases);
      dialog.current?.showModal();
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const erase = async () => {
    try {
      const done = await api<{ erased: Erases }>("DELETE", `/api/speakers/${encodeURIComponent(speaker.id)}`);
      dialog.current?.close();
      onNotice(
        `Erased ${speaker.name}: ${count(done.erased.samples, "sample")}, ${count(done.erased.voiceprints, "voiceprint")}, ${count(done.erased.clips, "recording")}.`,
      );
      await onChanged();
    } catch (err) {
      dialog.current?.close();
      setError(errorOf(err));
    }
  };

  return (
    <li class="card" data-speaker={speaker.name}>
      {renaming ? (
        <form class="inline" onSubmit={rename}>
          <NameField id={`name-${speaker.id}`} label="New name" value={name} onValue={setName} />
          <button type="submit">Save</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setRenaming(false);
              setName(speaker.name);
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <h3>{speaker.name}</h3>
      )}
      <dl>
        <dt>Samples</dt>
        <dd class="samples">
          {speaker.samples}
          {speaker.complete === false ? <span class="badge warn">needs more speech</span> : null}
        </dd>
        <dt>Last heard</dt>
        <dd class="last-heard">
          {speaker.lastHeard
            ? `${when(speaker.lastHeard.at)}${speaker.lastHeard.room ? ` in ${speaker.lastHeard.room}` : ""}`
            : "not yet"}
        </dd>
      </dl>
      <div class="actions">
        {renaming ? null : (
          <button type="button" class="secondary" onClick={() => setRenaming(true)}>
            Rename
          </button>
        )}
        <a
          class="button secondary"
          href={`#/enroll?speaker=${encodeURIComponent(speaker.id)}&name=${encodeURIComponent(speaker.name)}`}
        >
          Add samples
        </a>
        <button type="button" class="danger" onClick={askErase}>
          Erase
        </button>
      </div>
      <ErrorBox error={error} />
      <dialog ref={dialog} aria-labelledby={`erase-${speaker.id}`}>
        <h3 id={`erase-${speaker.id}`}>Erase {speaker.name}?</h3>
        {erases ? (
          <p class="erase-summary">
            This deletes {speaker.name}'s {count(erases.samples, "enrollment sample")},{" "}
            {count(erases.voiceprints, "voiceprint")} and {count(erases.clips, "stored recording")}, and every
            recording, embedding and identification of their voice the house kept. It cannot be undone.
          </p>
        ) : null}
        <div class="actions">
          <button type="button" class="secondary" onClick={() => dialog.current?.close()} autofocus>
            Keep {speaker.name}
          </button>
          <button type="button" class="danger" onClick={erase}>
            Erase everything
          </button>
        </div>
      </dialog>
    </li>
  );
}
