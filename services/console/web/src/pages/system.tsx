import { useEffect, useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { ErrorBox, Table } from "../ui.js";

interface Instance {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
  started?: string;
  requests: number;
  errors: number;
  clipsPerSecond?: number;
  clips?: number;
}
interface Snapshot {
  at: string;
  services: Record<string, Instance[]>;
  streams: {
    name: string;
    messages: number;
    bytes: number;
    consumers: { name: string; pending: number; ackPending: number; redelivered: number }[];
  }[];
}

const bytes = (n: number) =>
  n > 1024 ** 3
    ? `${(n / 1024 ** 3).toFixed(1)} GiB`
    : n > 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(0)} KiB`;

export function SystemPage() {
  const [snap, setSnap] = useState<Snapshot>();
  const [error, setError] = useState<ErrorPayload>();
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const s = await api<Snapshot>("GET", "/api/system");
        if (!stopped) {
          setSnap(s);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError(errorOf(err));
      }
    };
    void tick();
    const timer = setInterval(tick, 3000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  const workers = snap?.services.embedding ?? [];
  const live = workers.filter((w) => (w.metadata.role ?? "live") === "live");
  // A rate needs two looks at the counters; the first look has none yet.
  const rates = live.flatMap((w) => (w.clipsPerSecond === undefined ? [] : [w.clipsPerSecond]));
  const rate = rates.length === 0 ? undefined : rates.reduce((n, r) => n + r, 0);
  return (
    <section>
      <ErrorBox error={error} />
      {snap === undefined ? <p class="loading">Loading…</p> : null}
      {snap ? (
        <>
          <dl class="summary">
            <dt>Model</dt>
            <dd class="model">{live[0]?.metadata.model_key ?? "no worker answers"}</dd>
            <dt>Device</dt>
            <dd class="device">
              {live[0]?.metadata.device ?? "–"}
              {live[0]?.metadata.threads ? ` (${live[0].metadata.threads} threads)` : ""}
            </dd>
            <dt>Workers</dt>
            <dd class="workers">{live.length}</dd>
            <dt>Throughput</dt>
            <dd class="throughput">{rate === undefined ? "measuring…" : `${rate.toFixed(2)} clips/s`}</dd>
          </dl>
          <h3>Services</h3>
          <Table columns={["Service", "Instance", "Version", "Requests", "Errors"]}>
            {Object.entries(snap.services).flatMap(([name, list]) =>
              list.length === 0
                ? [
                    <tr key={name}>
                      <th scope="row">{name}</th>
                      <td colSpan={4}>not answering</td>
                    </tr>,
                  ]
                : list.map((s) => (
                    <tr key={s.id}>
                      <th scope="row">{name}</th>
                      <td>{s.id.slice(-8)}</td>
                      <td>{s.version}</td>
                      <td>{s.requests}</td>
                      <td>{s.errors}</td>
                    </tr>
                  )),
            )}
          </Table>
          <h3>Streams</h3>
          <Table columns={["Stream / consumer", "Messages", "Size", "Pending", "Unacked"]}>
            {snap.streams.flatMap((s) => [
              <tr key={s.name} class="stream" data-stream={s.name}>
                <th scope="row">{s.name}</th>
                <td>{s.messages}</td>
                <td>{bytes(s.bytes)}</td>
                <td />
                <td />
              </tr>,
              ...s.consumers.map((c) => (
                <tr key={`${s.name}/${c.name}`}>
                  <td class="consumer">↳ {c.name}</td>
                  <td />
                  <td />
                  <td>{c.pending}</td>
                  <td>{c.ackPending}</td>
                </tr>
              )),
            ])}
          </Table>
        </>
      ) : null}
    </section>
  );
}
