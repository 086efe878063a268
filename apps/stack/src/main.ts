/** `pnpm start`: the whole stack in one process, readable logs, a banner, and a clean stop on Ctrl-C/SIGTERM. */

import { banner } from "./banner.js";
import { stackConfigFromEnv } from "./config.js";
import { logIdentifications } from "./live-log.js";
import { createStackLogger } from "./logging.js";
import { defaultPlugins } from "./plugins.js";
import { createStack } from "./stack.js";

const logger = createStackLogger("speakers");
const config = stackConfigFromEnv();
const { plugins, pluginConfig } = defaultPlugins(config);
const stack = createStack(config, {
  logger,
  plugins,
  pluginConfig,
  // The stack already stopped itself and logged why; what is left is to say so with the exit status.
  onFatal: () => process.exit(1),
});

let stopping = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) {
    // A second Ctrl-C means "now": skip the drain.
    logger.warn({ signal }, "second signal, exiting without draining");
    process.exit(130);
  }
  stopping = true;
  logger.info({ signal }, "stopping (Ctrl-C again to force)");
  stack.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, "stop failed");
      process.exit(1);
    },
  );
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

try {
  const urls = await stack.start();
  if (!stopping) {
    logIdentifications(stack.bus, logger);
    process.stdout.write(
      banner(urls, {
        mqtt: config.mqttUrl !== undefined,
        plugins: stack.plugins?.running.map((p) => p.name) ?? [],
      }),
    );
  }
} catch (err) {
  logger.fatal({ err }, "the stack could not start");
  process.exitCode = 1;
}
