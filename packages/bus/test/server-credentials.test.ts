import { inboxPrefixFor, splitServerCredentials } from "@speakers/bus";
import { describe, expect, it } from "vitest";

// The parsing alone; deploy/test/least-privilege.test.ts logs in with it against the deploy auth config.
describe("splitServerCredentials", () => {
  it("takes user:pass@ out of the URL and percent-decodes both", () => {
    expect(splitServerCredentials("nats://unknown-voices:p%40ss%3Aw%2Frd@nats:4222")).toEqual({
      servers: ["nats://nats:4222"],
      user: "unknown-voices",
      pass: "p@ss:w/rd",
    });
  });

  it("reads every server of a comma-separated list or an array, keeping what follows the host", () => {
    const both = "nats://a:pw@n1:4222, tls://a:pw@n2:4443/x";
    expect(splitServerCredentials(both)).toEqual({
      servers: ["nats://n1:4222", "tls://n2:4443/x"],
      user: "a",
      pass: "pw",
    });
    expect(splitServerCredentials(["a:pw@n1:4222", "n2:4222"])).toEqual({
      servers: ["n1:4222", "n2:4222"],
      user: "a",
      pass: "pw",
    });
  });

  it("leaves URLs without credentials alone", () => {
    expect(splitServerCredentials("nats://127.0.0.1:4222")).toEqual({ servers: ["nats://127.0.0.1:4222"] });
    expect(splitServerCredentials("localhost:4222")).toEqual({ servers: ["localhost:4222"] });
  });

  it("refuses servers that name different credentials, without printing the passwords", () => {
    const call = () => splitServerCredentials("nats://a:secret1@n1:4222,nats://a:secret2@n2:4222");
    expect(call).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(call).toThrow(/n1:4222 and nats:\/\/n2:4222/);
    expect(call).not.toThrow(/secret/);
    expect(() => splitServerCredentials("nats://a:pw@n1:4222,nats://b:pw@n2:4222")).toThrow(
      /different credentials/,
    );
  });

  it("refuses broken percent-encoding with a typed error that hides the password", () => {
    const call = () => splitServerCredentials("nats://a:secret%zz@n1:4222");
    expect(call).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(call).not.toThrow(/secret/);
  });

  it("gives a user its own inbox prefix, the one deploy/nats/auth.conf allows", () => {
    expect(inboxPrefixFor("capture")).toBe("_INBOX.capture");
  });
});
