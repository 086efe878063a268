import { type EmbeddedStack, runCli } from "../../src/index.js";

/**
 * A `speakers …` runner against one embedded stack that stays up between commands (it is what a fresh one
 * would load from disk): stdout and stderr lines collected, the exit code returned.
 */
export function speakersOn(stack: () => EmbeddedStack) {
  return async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      output: { out: (l) => out.push(l), err: (l) => err.push(l) },
      openStack: async () => ({ ...stack(), stop: async () => {} }),
    });
    process.exitCode = undefined;
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
}
