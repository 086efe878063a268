import { connect } from "node:net";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface ReadyProbe {
  host: string;
  port: number;
  monitorPort: number;
  timeoutMs: number;
  /** Returns a reason to give up early (e.g. the process exited), or undefined to keep waiting. */
  abandoned: () => string | undefined;
}

/** Waits until the client port accepts and /healthz (JetStream included) answers ok. */
export async function waitReady(probe: ReadyProbe): Promise<void> {
  const deadline = Date.now() + probe.timeoutMs;
  const healthz = `http://${probe.host}:${probe.monitorPort}/healthz`;
  while (Date.now() < deadline) {
    const reason = probe.abandoned();
    if (reason) throw new Error(reason);
    if ((await portAccepts(probe.host, probe.port)) && (await healthy(healthz))) return;
    await sleep(50);
  }
  throw new Error(`not ready after ${probe.timeoutMs} ms (port ${probe.port}, ${healthz})`);
}
