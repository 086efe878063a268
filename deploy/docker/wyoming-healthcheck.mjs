// Docker health check of the Wyoming bridge: healthy when a Wyoming `describe` gets an `info` back.
import { connect } from "node:net";

const port = Number(process.env.SPEAKERS_WYOMING_HEALTH_PORT ?? 10350);
const socket = connect({ host: "127.0.0.1", port });
const fail = () => process.exit(1);
setTimeout(fail, 5_000).unref();
socket.on("error", fail);
socket.on("connect", () => socket.write('{"type":"describe"}\n'));
let seen = "";
socket.on("data", (chunk) => {
  seen += chunk.toString("utf8");
  const line = seen.split("\n")[0];
  if (seen.includes("\n")) process.exit(JSON.parse(line).type === "info" ? 0 : 1);
});
