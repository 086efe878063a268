import { AckPolicy, type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { AuthorizationError, type NatsConnection } from "@nats-io/nats-core";
import { Objm } from "@nats-io/obj";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { closeBus, connectBus, createLogger, defaultTopology, provision } from "@speakers/bus";
import { type NatsServer, startNatsServer } from "@speakers/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectPublishRefused, expectRefused, expectSubscribeRefused, Violations } from "./helpers/denied.js";
import { NATS_CONFIGS } from "./helpers/deploy-files.js";
import { connectAs, newPasswords, type Passwords, passwordEnv, type User } from "./helpers/nats-users.js";

// One server from deploy/nats/single.conf (its auth.conf included), provisioned by the admin the way the
// deployment does it, then each service's user doing its real job and being refused what it must not do.
let server: NatsServer;
let passwords: Passwords;
const conns = {} as Record<Exclude<User, "admin">, NatsConnection>;
const violations = {} as Record<Exclude<User, "admin">, Violations>;
const js = (user: Exclude<User, "admin">): JetStreamClient => jetstream(conns[user]);

const VOICEPRINT_KEY = "alice.ecapa";
const CLIP = new Uint8Array(700 * 1024).map((_, i) => i % 251); // above the inline limit: goes to audio-clips

beforeAll(async () => {
  passwords = newPasswords();
  server = await startNatsServer({ args: ["-c", NATS_CONFIGS.single], env: passwordEnv(passwords) });
  const admin = await connectBus({
    servers: server.url,
    name: "deploy-test-admin",
    connection: { user: "admin", pass: passwords.admin },
    logger: createLogger("deploy-test-admin", { level: "warn" }),
  });
  await provision(admin, defaultTopology());
  await closeBus(admin);
  for (const user of ["worker", "registry", "capture", "plugin", "presence", "unknown-voices"] as const) {
    conns[user] = await connectAs(server.url, user, passwords);
    violations[user] = new Violations(conns[user]);
  }
});

afterAll(async () => {
  await Promise.all(Object.values(conns).map((nc) => nc.close()));
  await server?.stop();
});

describe("deploy/nats auth.conf", () => {
  it("refuses a client without credentials or with a wrong password", async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toBeInstanceOf(
      AuthorizationError,
    );
    await expect(
      connect({ servers: server.url, user: "plugin", pass: passwords.capture, reconnect: false }),
    ).rejects.toBeInstanceOf(AuthorizationError);
  });

  it("lets capture publish audio and park a large clip, and nothing about speakers", async () => {
    const ack = await js("capture").publish("audio.captured.kitchen", new Uint8Array([1, 2, 3]), {
      msgID: "a-1",
    });
    expect(ack.stream).toBe("AUDIO");
    const clips = await new Objm(js("capture")).open("audio-clips");
    await clips.putBlob({ name: "clip-1" }, CLIP);
    const seen = await new Kvm(js("capture")).open("ingest-seen");
    await seen.put("file_kitchen_1_wav", "a-1");
    expect((await seen.get("file_kitchen_1_wav"))?.string()).toBe("a-1");

    await expectPublishRefused(conns.capture, violations.capture, "speaker.identified");
    await expectRefused(js("capture").publish("speaker.identified", "{}"), "speaker.identified");
    await expectRefused(kvGet(js("capture"), "voiceprints", VOICEPRINT_KEY));
    // an inbox other than its own would let it read every reply in the account
    await expectSubscribeRefused(conns.capture, violations.capture, "_INBOX.>");
  });

  it("lets the worker consume AUDIO, read clips, publish embeddings and serve `embedding`", async () => {
    const consumer = await js("worker").consumers.get("AUDIO", "embedding-worker");
    const [msg] = await collect(await consumer.fetch({ max_messages: 1, expires: 2_000 }));
    expect(msg?.subject).toBe("audio.captured.kitchen");
    const clips = await new Objm(js("worker")).open("audio-clips");
    // Buffer.equals: a deep toEqual over 700 k elements takes seconds
    expect(Buffer.from((await clips.getBlob("clip-1")) ?? []).equals(CLIP)).toBe(true);
    const ack = await js("worker").publish("embedding.computed.ecapa", '{"vector":[0.1]}', {
      msgID: "emb-1",
    });
    expect(ack.stream).toBe("EMBEDDINGS");
    await msg?.ackAck();

    // @nats-io/services 3.0.0-25 is typed against an older nats-core; the connection is the same at runtime
    const service = await new Svcm(conns.worker as unknown as ConstructorParameters<typeof Svcm>[0]).add({
      name: "embedding",
      version: "0.1.0",
      queue: "embedding",
    });
    service.addEndpoint("models", {
      subject: "speakers.embedding.models",
      handler: (_err, m) => m.respond("[]"),
    });
    // the container health check (deploy/docker/worker_healthcheck.py) is this PING, as the worker user
    const pong = await conns.worker.request("$SRV.PING.embedding", "", { timeout: 2_000 });
    expect(pong.json()).toMatchObject({ name: "embedding" });
    expect((await conns.registry.request("speakers.embedding.models", "", { timeout: 2_000 })).string()).toBe(
      "[]",
    );

    await expectPublishRefused(conns.worker, violations.worker, "speaker.identified");
    await expectPublishRefused(conns.worker, violations.worker, `$KV.voiceprints.${VOICEPRINT_KEY}`);
    await expectRefused(conns.plugin.request("speakers.embedding.models", "", { timeout: 2_000 }));
    await service.stop();
  });

  it("lets the registry consume EMBEDDINGS, keep voiceprints and publish speaker events", async () => {
    const consumer = await js("registry").consumers.get("EMBEDDINGS", "speaker-registry");
    const [msg] = await collect(await consumer.fetch({ max_messages: 1, expires: 2_000 }));
    expect(msg?.subject).toBe("embedding.computed.ecapa");
    const voiceprints = await new Kvm(js("registry")).open("voiceprints");
    await voiceprints.put(VOICEPRINT_KEY, '{"vector":[0.1]}');
    expect((await voiceprints.get(VOICEPRINT_KEY))?.json()).toEqual({ vector: [0.1] });
    expect(await collect(await voiceprints.keys())).toEqual([VOICEPRINT_KEY]);
    const ack = await js("registry").publish("speaker.identified", '{"speakerId":"alice"}', {
      msgID: "sid-1",
    });
    expect(ack.stream).toBe("SPEAKERS");
    await msg?.ackAck();
    await expectPublishRefused(conns.registry, violations.registry, "audio.captured.kitchen");
  });

  it("lets a plugin read speaker events, but not publish them or read voiceprints", async () => {
    const jsm = await jetstreamManager(conns.plugin);
    await jsm.consumers.add("SPEAKERS", { durable_name: "home-assistant", ack_policy: AckPolicy.Explicit });
    const consumer = await js("plugin").consumers.get("SPEAKERS", "home-assistant");
    const [msg] = await collect(await consumer.fetch({ max_messages: 1, expires: 2_000 }));
    expect(msg?.json()).toEqual({ speakerId: "alice" });
    await msg?.ackAck();

    await expectPublishRefused(conns.plugin, violations.plugin, "speaker.identified");
    await expectRefused(js("plugin").publish("speaker.identified", "{}"), "speaker.identified");
    // every road to the voiceprints bucket: KV API, direct get, a consumer on its stream, its raw subjects
    await expectRefused(
      kvGet(js("plugin"), "voiceprints", VOICEPRINT_KEY),
      "$JS.API.STREAM.MSG.GET.KV_voiceprints",
    );
    await expectRefused(jsm.streams.info("KV_voiceprints"), "$JS.API.STREAM.INFO.KV_voiceprints");
    const directGet = `$JS.API.DIRECT.GET.KV_voiceprints.$KV.voiceprints.${VOICEPRINT_KEY}`;
    await expectRefused(conns.plugin.request(directGet, "", { timeout: 2_000 }), directGet);
    await expectRefused(jsm.consumers.add("KV_voiceprints", { name: "peek", ack_policy: AckPolicy.None }));
    await expectSubscribeRefused(conns.plugin, violations.plugin, "$KV.voiceprints.>");
    await expectSubscribeRefused(conns.plugin, violations.plugin, "_INBOX.>");
    await expectRefused(jsm.streams.purge("SPEAKERS"));
    // and the bucket does hold the key: the refusals above are permissions, not absence
    const registryKv = await new Kvm(js("registry")).open("voiceprints");
    expect(await registryKv.get(VOICEPRINT_KEY)).not.toBeNull();
  });

  it("lets the presence plugin keep its bucket and nothing else", async () => {
    const presence = await new Kvm(js("presence")).open("presence");
    await presence.put("alice", '{"room":"kitchen"}');
    expect((await presence.get("alice"))?.json()).toEqual({ room: "kitchen" });
    await expectRefused(kvGet(js("presence"), "speakers", "alice"));
    await expectRefused(kvGet(js("presence"), "voiceprints", VOICEPRINT_KEY));
    await expectRefused(kvGet(js("plugin"), "presence", "alice"));
  });
});

describe("deploy/nats auth.conf, unknown-voices", () => {
  it("reads an event's audio and keeps its own clips, but not voiceprints", async () => {
    const client = js("unknown-voices");
    const jsm = await jetstreamManager(conns["unknown-voices"]);
    const stored = await jsm.streams.getMessage("AUDIO", { seq: 1 });
    expect(stored?.subject).toBe("audio.captured.kitchen");
    const clips = await new Objm(client).open("audio-clips");
    expect((await clips.getBlob("clip-1"))?.length).toBe(CLIP.length);
    const own = await new Objm(client).create("plugin-unknown-voices");
    await own.putBlob({ name: "u-1" }, new Uint8Array([1, 2, 3]));
    const index = await new Kvm(client).create("plugin-unknown-voices");
    await index.put("u-1", "{}");

    const v = violations["unknown-voices"];
    await expectPublishRefused(conns["unknown-voices"], v, "speaker.identified");
    await expectRefused(kvGet(client, "voiceprints", VOICEPRINT_KEY));
    await expectRefused(
      conns["unknown-voices"].request("speakers.registry.delete", "{}", { timeout: 2_000 }),
    );
    await expectSubscribeRefused(conns["unknown-voices"], v, "_INBOX.>");
  });
});

/** KV open() is lazy (no server call), so a refusal shows on the first read. */
async function kvGet(client: JetStreamClient, bucket: string, key: string) {
  return (await new Kvm(client).open(bucket)).get(key);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
