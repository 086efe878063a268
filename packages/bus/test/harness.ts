import { connectTestBus, type TestBus as TestBusOn } from "@speakers/bus/testing";
import { type NatsServer, startNatsServer } from "@speakers/nats-testing";

export { eventually, sleep } from "@speakers/bus/testing";

export type TestBus = TestBusOn<NatsServer>;

/** A real nats-server with the system's topology provisioned, and a bus that reconnects quickly. */
export async function startTestBus(name: string): Promise<TestBus> {
  return connectTestBus(await startNatsServer(), name);
}
