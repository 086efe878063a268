import { freePort, type NatsServer, startNatsServer } from "@speakers/test-support";
import { NATS_CONFIGS } from "./deploy-files.js";
import { type Passwords, passwordEnv } from "./nats-users.js";

export interface LocalCluster {
  /** Node n (1..3) is nodes[n - 1]; its server_name, from its config file, is `nats-<n>`. */
  readonly nodes: NatsServer[];
  readonly urls: string[];
  /** Route ports, node 1 first. */
  readonly clusterPorts: number[];
  stop(): Promise<void>;
}

/**
 * Starts deploy/nats/cluster/node-{1,2,3}.conf as three local processes. What differs from the containers
 * is only what the files take from the env ($NATS_CLUSTER_LISTEN and $NATS_ROUTES: 127.0.0.1:<free port>
 * here, 0.0.0.0:6222 and nats-N:6222 there) and the client/monitor ports and store dir (harness flags).
 * Server names, cluster name, route authorization, users and JetStream limits all come from the files.
 */
export async function startLocalCluster(passwords: Passwords): Promise<LocalCluster> {
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const routes = clusterPorts.map((p) => `"nats-route://route:${passwords.route}@127.0.0.1:${p}"`).join(", ");
  // All three at once: a node reports healthy only after JetStream found a meta leader, which needs a quorum.
  const nodes = await Promise.all(
    ([1, 2, 3] as const).map((n) =>
      startNatsServer({
        args: ["-c", NATS_CONFIGS.node(n)],
        env: {
          ...passwordEnv(passwords),
          NATS_CLUSTER_LISTEN: `127.0.0.1:${clusterPorts[n - 1]}`,
          NATS_ROUTES: `[${routes}]`,
        },
        startTimeoutMs: 45_000,
      }),
    ),
  );
  await waitForQuorum(nodes);
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    clusterPorts,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** The node whose config names it `nats-<n>`. */
export function nodeByName(cluster: LocalCluster, serverName: string): NatsServer {
  const index = Number(serverName.replace(/^nats-/, "")) - 1;
  const node = cluster.nodes[index];
  if (!node) throw new Error(`no node named ${serverName}`);
  return node;
}

/**
 * /healthz passes as soon as a node knows a meta leader, but the routes still settle for a moment (each node
 * dials all three, duplicates are dropped) and the leader may count a peer offline: a stream placed then fails
 * with "no suitable peers for placement". Wait until the meta leader sees both peers current.
 */
async function waitForQuorum(nodes: NatsServer[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    for (const node of nodes) {
      const jsz = await monitor<Jsz>(node, "jsz");
      last = JSON.stringify(jsz.meta_cluster);
      // only the meta leader lists the replicas
      const replicas = jsz.meta_cluster?.replicas ?? [];
      if (replicas.length === nodes.length - 1 && replicas.every((r) => r.current && !r.offline)) {
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the cluster did not settle in ${timeoutMs} ms; meta: ${last}`);
}

/** The parts of nats-server's monitoring answers (/varz, /routez, /jsz) the tests read. */
export interface Varz {
  server_name: string;
  cluster: { name: string };
}
export interface Routez {
  routes: { remote_name: string }[];
}
export interface Jsz {
  meta_cluster?: { leader?: string; replicas?: { name: string; current?: boolean; offline?: boolean }[] };
  account_details?: { stream_detail?: { name: string; state: { messages: number } }[] }[];
}

export async function monitor<T>(node: NatsServer, endpoint: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${node.monitorPort}/${endpoint}`);
  return (await res.json()) as T;
}
