import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { splitServerCredentials } from "@speakers/bus";
import { buildProgram } from "@speakers/cli";
import { SERVICES } from "@speakers/events";
import { pluginConfigEnv } from "@speakers/plugin-sdk";
import { DEFAULT_NATS_MEMORY_LIMIT } from "@speakers/runtime";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEPLOY_DIR, REPO_ROOT } from "./helpers/deploy-files.js";
import { effective, execForm, parseDockerfile, stageChain } from "./helpers/dockerfile.js";
import { passwordVar, USERS, type User } from "./helpers/nats-users.js";

// No Docker engine here, so docker-compose.yml and the Dockerfiles are checked against the code they run: each
// container's command is the one the tests and READMEs use, every env var is one the service reads, every
// health check is the one its image declares and names the service's real micro-service name.

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
  restart?: string;
  networks?: Record<string, { aliases?: string[] }>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: {
    resources: { reservations: { devices: { driver: string; count: number; capabilities: string[] }[] } };
  };
}

const compose = parse(readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

interface AppSpec {
  /** Folder whose sources must mention every env var the container sets. */
  sources: string[];
  command: string[];
  /** The NATS user in NATS_URL. */
  user: User;
  /** The micro service its health check PINGs (undefined: an HTTP check or none). */
  pings?: string;
}

const pluginName = (dir: string): string => {
  const match = /definePlugin\(\{\s*name:\s*"([^"]+)"/.exec(
    readFileSync(join(REPO_ROOT, dir, "src/plugin.ts"), "utf8"),
  );
  if (!match?.[1]) throw new Error(`no plugin name in ${dir}/src/plugin.ts`);
  return match[1];
};

/** A plugin's sources (its own and the SDK's) and the command its container runs. */
const plugin = (dir: string): Pick<AppSpec, "sources" | "command"> => ({
  sources: [`plugins/${dir}/src`, "packages/plugin-sdk/src"],
  command: ["node", `plugins/${dir}/dist/main.js`],
});

const WORKER: AppSpec = {
  sources: ["services/embedding-worker/src/speaker_worker"],
  command: ["python", "-m", "speaker_worker"],
  user: "worker",
  pings: SERVICES.embedding.name,
};
const APPS: Record<string, AppSpec> = {
  provision: {
    sources: ["apps/cli/src"],
    command: ["node", "apps/cli/dist/main.js", "provision"],
    user: "admin",
  },
  worker: WORKER,
  "worker-gpu": WORKER,
  registry: {
    sources: ["services/speaker-registry/src"],
    command: ["node", "services/speaker-registry/dist/main.js"],
    user: "registry",
    pings: SERVICES.registry.name,
  },
  capture: {
    // Its main runs through the runtime's runService, which reads NATS_URL.
    sources: ["services/audio-capture/src", "packages/runtime/src/run-service.ts"],
    command: ["node", "services/audio-capture/dist/main.js"],
    user: "capture",
  },
  "plugin-presence": { ...plugin("presence"), user: "presence", pings: pluginName("plugins/presence") },
  "plugin-unknown-voices": {
    ...plugin("unknown-voices"),
    user: "unknown-voices",
    pings: pluginName("plugins/unknown-voices"),
  },
  "plugin-home-assistant": { ...plugin("home-assistant"), user: "plugin" },
  "wyoming-bridge": {
    sources: ["services/wyoming-bridge/src", "packages/runtime/src/run-service.ts"],
    command: ["node", "services/wyoming-bridge/dist/main.js"],
    user: "wyoming",
  },
};

const NATS_IMAGE = "nats:2.12.15-alpine";

const confText = (files: string[]): string =>
  files.map((f) => readFileSync(join(DEPLOY_DIR, "nats", f), "utf8")).join("\n");
/** The $VARs a nats-server config reads from its environment. */
const varsRead = (conf: string): Set<string | undefined> =>
  new Set([...conf.matchAll(/:\s*\$([A-Z_]+)/g)].map((m) => m[1]));

function sourceText(dirs: string[]): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|py)$/.test(entry)) out.push(readFileSync(path, "utf8"));
    }
  };
  for (const dir of dirs) {
    const path = join(REPO_ROOT, dir);
    if (statSync(path).isDirectory()) walk(path);
    else out.push(readFileSync(path, "utf8"));
  }
  return out.join("\n");
}

describe("docker-compose.yml", () => {
  it("runs nats from deploy/nats/single.conf with a data volume and every password the config reads", () => {
    const nats = service("nats");
    // The tests' binary is the same release (2.11.11 had a published queue-subscribe permission bypass; 2.12
    // never places an ephemeral consumer on a peer it knows is offline, nats-server#7165)
    expect(nats.image).toBe(NATS_IMAGE);
    expect(nats.command).toEqual(["-c", "/etc/nats/single.conf", "-sd", "/data/jetstream"]);
    expect(nats.volumes).toContain("./deploy/nats:/etc/nats:ro");
    expect(nats.volumes).toContain("nats-data:/data");
    expect(compose.volumes).toHaveProperty("nats-data");
    const conf = confText(["common.conf", "single.conf", "auth.conf"]);
    const { GOMEMLIMIT, ...passwords } = nats.environment ?? {};
    expect(new Set(Object.keys(passwords))).toEqual(varsRead(conf));
    // The embedded server's soft memory limit, with the same variable to change it.
    expect(GOMEMLIMIT).toBe(`\${SPEAKERS_NATS_MEMORY_LIMIT:-${DEFAULT_NATS_MEMORY_LIMIT}}`);
    expect(nats.healthcheck?.test.join(" ")).toContain("http://127.0.0.1:8222/healthz");
    expect(conf).toMatch(/http_port:\s*8222/);
  });

  for (const [name, spec] of Object.entries(APPS)) {
    describe(name, () => {
      const svc = service(name);

      it("runs the command the tests and READMEs use, as its image does", () => {
        expect(svc.command).toEqual(spec.command);
        const build = svc.build;
        if (!build) throw new Error(`${name} has no build`);
        const { stages } = parseDockerfile(join(REPO_ROOT, build.dockerfile));
        const target = build.target ?? stages.at(-1)?.name ?? "";
        expect(execForm(effective(stages, target, "CMD"))).toEqual(spec.command);
        const user = effective(stages, target, "USER");
        expect(user, "runs as a non-root user").toBeDefined();
        expect(user).not.toMatch(/^(root|0)$/);
        if (spec.command[0] === "node") {
          const dir = spec.command[1]?.replace(/\/dist\/main\.js$/, "") ?? "";
          expect(existsSync(join(REPO_ROOT, dir, "src/main.ts")), `${dir}/src/main.ts`).toBe(true);
          const pkg = JSON.parse(readFileSync(join(REPO_ROOT, dir, "package.json"), "utf8"));
          if (pkg.scripts?.start) expect(pkg.scripts.start).toBe("node dist/main.js");
        } else {
          expect(existsSync(join(REPO_ROOT, WORKER.sources[0] ?? "", "__main__.py"))).toBe(true);
          // the launcher the TS tests and the CLI use
          const launcher = readFileSync(
            join(REPO_ROOT, "packages/embedding-client/src/worker-command.ts"),
            "utf8",
          );
          expect(launcher).toContain('["-m", "speaker_worker"]');
        }
      });

      it("sets only env vars the service reads, and a NATS user of auth.conf", () => {
        const env = svc.environment ?? {};
        const text = sourceText(spec.sources);
        for (const key of Object.keys(env)) {
          if (key.startsWith("SPEAKERS_PLUGIN_")) {
            expect(key).toBe(pluginConfigEnv(pluginName(spec.sources[0]?.replace(/\/src$/, "") ?? "")));
            continue;
          }
          expect(text, `${name} sets ${key}, which its code never reads`).toMatch(new RegExp(`\\b${key}\\b`));
        }
        expect(USERS).toContain(spec.user);
        expect(env.NATS_URL).toBe(`nats://${spec.user}:\${${passwordVar(spec.user)}}@nats:4222`);
      });

      it("checks health the way its image does", () => {
        const build = svc.build;
        if (!build) throw new Error(`${name} has no build`);
        const { stages } = parseDockerfile(join(REPO_ROOT, build.dockerfile));
        const target = build.target ?? stages.at(-1)?.name ?? "";
        const image = execForm(effective(stages, target, "HEALTHCHECK")) ?? [];
        expect(svc.healthcheck?.test.slice(1) ?? [], "compose repeats the image's HEALTHCHECK").toEqual(
          image,
        );
        if (spec.pings) expect(image.at(-1)).toBe(spec.pings);
      });
    });
  }

  it("caches the worker's model in a volume at MODEL_CACHE_DIR", () => {
    for (const name of ["worker", "worker-gpu"]) {
      const svc = service(name);
      expect(svc.volumes).toContain(`models:${svc.environment?.MODEL_CACHE_DIR}`);
    }
    expect(compose.volumes).toHaveProperty("models");
  });

  it("reserves an NVIDIA GPU for the gpu profile's worker, built with CUDA torch", () => {
    const cpu = service("worker");
    const gpu = service("worker-gpu");
    expect(cpu.profiles).toBeUndefined();
    expect(cpu.build?.args?.TORCH_VARIANT).toBe("cpu");
    expect(gpu.profiles).toEqual(["gpu"]);
    expect(gpu.build?.args?.TORCH_VARIANT).toBe("cu128");
    expect(gpu.environment?.MODEL_DEVICE).toBe("cuda");
    expect(gpu.deploy?.resources.reservations.devices).toEqual([
      { driver: "nvidia", count: 1, capabilities: ["gpu"] },
    ]);
    const worker = readFileSync(join(DEPLOY_DIR, "docker/worker.Dockerfile"), "utf8");
    expect(worker).toMatch(/ARG TORCH_VARIANT=cpu/);
    expect(worker).toMatch(/"\$TORCH_VARIANT" != "cu128"/);
  });

  it("gives the Home Assistant plugin the compose Mosquitto", () => {
    const mosquitto = service("mosquitto");
    expect(mosquitto.image).toMatch(/^eclipse-mosquitto:2\.0\.\d+$/);
    expect(mosquitto.volumes).toContain(
      "./deploy/mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro",
    );
    expect(readFileSync(join(DEPLOY_DIR, "mosquitto/mosquitto.conf"), "utf8")).toMatch(/^listener 1883$/m);
    const ha = service("plugin-home-assistant");
    expect(JSON.parse(ha.environment?.SPEAKERS_PLUGIN_HOME_ASSISTANT ?? "{}").mqttUrl).toBe(
      "mqtt://mosquitto:1883",
    );
    expect(ha.depends_on?.mosquitto?.condition).toBe("service_healthy");
  });

  it("starts every app after nats is healthy", () => {
    for (const name of Object.keys(APPS)) {
      expect(service(name).depends_on?.nats?.condition, name).toBe("service_healthy");
    }
  });

  it("provisions once as the admin before any other app starts, with a command the CLI has", () => {
    const provision = service("provision");
    expect(provision.restart, "a one-shot: compose must not restart it after it exits 0").toBe("no");
    for (const name of Object.keys(APPS).filter((n) => n !== "provision")) {
      expect(service(name).depends_on?.provision?.condition, name).toBe("service_completed_successfully");
    }
    const command = buildProgram().commands.find((c) => c.name() === "provision");
    expect(command, "speakers provision").toBeDefined();
    expect(command?.options.map((o) => o.long)).toContain("--replicas");
  });
});

describe("docker-compose.cluster.yml", () => {
  const cluster = parse(readFileSync(join(REPO_ROOT, "docker-compose.cluster.yml"), "utf8"), {
    merge: true,
  }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const node = (n: 1 | 2 | 3): ComposeService => {
    // node 1 overrides the base file's `nats`, so every app's dependency on nats holds in the cluster too
    const found = cluster.services[n === 1 ? "nats" : `nats-${n}`];
    if (!found) throw new Error(`docker-compose.cluster.yml has no node ${n}`);
    return found;
  };
  const password = "p0route";

  it("runs each node from its own deploy/nats/cluster file, with its own data volume", () => {
    const volumes = new Set<string>();
    for (const n of [1, 2, 3] as const) {
      const svc = node(n);
      expect(svc.image).toBe(NATS_IMAGE);
      expect(svc.command).toEqual(["-c", `/etc/nats/cluster/node-${n}.conf`, "-sd", "/data/jetstream"]);
      expect(existsSync(join(DEPLOY_DIR, `nats/cluster/node-${n}.conf`))).toBe(true);
      expect(svc.volumes).toContain("./deploy/nats:/etc/nats:ro");
      const data = svc.volumes?.find((v) => v.endsWith(":/data")) ?? "";
      // same target as the base file's nats-data mount, so compose replaces it for node 1
      expect(data).toBe(`nats-${n}-data:/data`);
      expect(cluster.volumes).toHaveProperty(`nats-${n}-data`);
      volumes.add(data);
      expect(svc.healthcheck?.test.join(" ")).toContain("http://127.0.0.1:8222/healthz");
    }
    expect(volumes.size).toBe(3);
    expect(node(1).networks?.default?.aliases).toEqual(["nats-1"]);
  });

  it("gives each node every password and route setting its config reads, routes authenticated", () => {
    const read = varsRead(confText(["common.conf", "auth.conf", "cluster/cluster.conf"]));
    for (const n of [1, 2, 3] as const) {
      const env = node(n).environment ?? {};
      expect(new Set(Object.keys(env)), `node ${n}`).toEqual(read);
      expect(env.NATS_ROUTE_PASSWORD).toMatch(/^\$\{NATS_ROUTE_PASSWORD:\?/);
      expect(env.NATS_CLUSTER_LISTEN).toBe("0.0.0.0:6222");
      // what nats-server parses: an array of the three route URLs, each carrying the route password
      const routes = JSON.parse(
        (env.NATS_ROUTES ?? "").replaceAll(`\${NATS_ROUTE_PASSWORD}`, password),
      ) as string[];
      expect(routes).toEqual([1, 2, 3].map((m) => `nats-route://route:${password}@nats-${m}:6222`));
    }
  });

  it("points every app at all three nodes as its own user, and provisions 3 replicas", () => {
    for (const [name, spec] of Object.entries(APPS)) {
      const url = cluster.services[name]?.environment?.NATS_URL ?? "";
      const pw = `\${${passwordVar(spec.user)}}`;
      expect(url, name).toBe([1, 2, 3].map((n) => `nats://${spec.user}:${pw}@nats-${n}:4222`).join(","));
      // the form connectBus (and the worker) read: one user for all three servers
      expect(splitServerCredentials(url).user, name).toBe(spec.user);
    }
    expect(cluster.services.provision?.command).toEqual([
      ...(APPS.provision?.command ?? []),
      "--replicas",
      "3",
    ]);
    for (const n of [2, 3]) {
      expect(cluster.services.provision?.depends_on?.[`nats-${n}`]?.condition).toBe("service_healthy");
    }
  });
});

describe("Dockerfiles", () => {
  it("pin their base images by version tag and digest", () => {
    for (const file of ["node.Dockerfile", "worker.Dockerfile"]) {
      const { args, stages } = parseDockerfile(join(DEPLOY_DIR, "docker", file));
      const bases = stages.map((s) => s.from).filter((from) => from.startsWith("${"));
      expect(bases.length, file).toBeGreaterThan(0);
      for (const base of bases) {
        const image = args[base.slice(2, -1)] ?? "";
        expect(image, `${file}: ${base}`).toMatch(/^[\w./-]+:\d+[\w.-]*@sha256:[0-9a-f]{64}$/);
      }
    }
  });

  it("give every runtime target of node.Dockerfile a command and a user", () => {
    const { stages } = parseDockerfile(join(DEPLOY_DIR, "docker/node.Dockerfile"));
    const targets = stages.filter((s) => stageChain(stages, s.name).some((c) => c.name === "runtime"));
    const composed = new Set(Object.values(compose.services).map((s) => s.build?.target));
    for (const stage of targets.filter((s) => s.name !== "runtime")) {
      expect(composed.has(stage.name), `target ${stage.name} is used by docker-compose.yml`).toBe(true);
      expect(effective(stages, stage.name, "CMD")).toBeDefined();
    }
  });
});
