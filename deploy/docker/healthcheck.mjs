// Container health check of a TS service: healthy when its NATS micro service answers `$SRV.PING.<name>`.
// Usage: node deploy/docker/healthcheck.mjs <service-name>. Runs with the service's own NATS_URL (and so its
// user), exits 0 on a reply and 1 otherwise. Plain .mjs so the image needs no build step for it.
import { connect } from "@nats-io/transport-node";

const service = process.argv[2];
const timeout = Number(process.env.HEALTHCHECK_TIMEOUT_S ?? "3") * 1000;
if (!service) {
  console.error("usage: healthcheck.mjs <service-name>");
  process.exit(2);
}

// nats.js ignores credentials inside a server URL; NATS_URL carries them (nats://user:pass@host:port, the form
// nats-py reads natively, comma-separated for a cluster), so they are taken out here and passed as options, as
// connectBus (packages/bus) does. Its inbox prefix too: plugins may only subscribe to `_INBOX.<user>.>`.
let auth = {};
const servers = (process.env.NATS_URL ?? "nats://127.0.0.1:4222").split(",").map((server) => {
  const url = new URL(server.trim());
  if (url.username) {
    const user = decodeURIComponent(url.username);
    auth = { user, pass: decodeURIComponent(url.password), inboxPrefix: `_INBOX.${user}` };
  }
  url.username = "";
  url.password = "";
  return url.toString();
});

let nc;
try {
  nc = await connect({
    servers,
    ...auth,
    name: `healthcheck-${service}`,
    reconnect: false,
    timeout,
  });
  const info = (await nc.request(`$SRV.PING.${service}`, "", { timeout })).json();
  console.log(`healthy: ${info.name} ${info.version} ${info.id}`);
  process.exitCode = 0;
} catch (err) {
  console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await nc?.close();
}
