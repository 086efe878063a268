/** Small shared pieces: an error box that shows the catalogue code and hint, times, and scores. */
import type { ComponentChildren } from "preact";
import type { ErrorPayload } from "./api.js";

export function ErrorBox({ error }: { error: ErrorPayload | undefined }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.message}</strong> <code>{error.code}</code>
      {error.hint ? <p>{error.hint}</p> : null}
    </div>
  );
}

/** What the last action came to: its error, or a notice that it worked. */
export function Outcome({ error, notice }: { error: ErrorPayload | undefined; notice: string | undefined }) {
  return (
    <>
      <ErrorBox error={error} />
      {notice ? <output class="notice">{notice}</output> : null}
    </>
  );
}

/** A scrolling table with one header row of column titles. */
export function Table({ columns, children }: { columns: string[]; children: ComponentChildren }) {
  return (
    <div class="table">
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A labelled text field for a speaker's name (required, at most 200 characters, as the registry takes it). */
export function NameField({
  id,
  label,
  value,
  onValue,
}: {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <input id={id} value={value} onInput={(e) => onValue(e.currentTarget.value)} required maxLength={200} />
    </>
  );
}

export function when(iso: string | undefined): string {
  if (!iso) return "never";
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** "1 sample", "3 samples". */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export const score = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(3));
export const seconds = (ms: number | undefined) => (ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`);
