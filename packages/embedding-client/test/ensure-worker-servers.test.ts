/**
 * A started worker gets every server it was given, not only the first: with the first one down (a cluster
 * node lost), the worker must still come up through the next.
 */
import { ensureWorker, type WorkerHandle } from "@speakers/embedding-client";
import { type NatsServer, startNatsServer } from "@speakers/test-support";
import { afterAll, describe, expect, it } from "vitest";

describe("ensureWorker with several servers", () => {
  let server: NatsServer | undefined;
  let handle: WorkerHandle | undefined;

  afterAll(async () => {
    await handle?.stop();
    await server?.stop();
  });

  it("starts a worker that reaches the live server when the first one listed is down", async () => {
    const gone = await startNatsServer();
    const deadUrl = gone.url;
    await gone.stop();
    server = await startNatsServer();

    handle = await ensureWorker({ servers: [deadUrl, server.url], model: "ge2e", readyTimeoutMs: 170_000 });
    expect(handle.started).toBe(true);
    expect(handle.ping.metadata.model_key).toBe("resemblyzer/ge2e@0.1.4");
  });
});
