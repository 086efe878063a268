/** The `speakers` command line. Each command opens the stack it needs and always stops it again. */
import { Command, InvalidArgumentError } from "commander";
import { registerCalibrateCommand } from "./commands/calibrate.js";
import { enrollCommand } from "./commands/enroll.js";
import { evalCommand } from "./commands/eval.js";
import { registerHouseholdSourceCommands } from "./commands/household-sources.js";
import { registerProvision } from "./commands/provision.js";
import { publishCommand } from "./commands/publish.js";
import { registerReplayCommands } from "./commands/replay.js";
import {
  deleteCommand,
  identifyCommand,
  listCommand,
  renameCommand,
  verifyCommand,
} from "./commands/speakers.js";
import { watchCommand } from "./commands/watch.js";
import { type EmbeddedStack, startEmbeddedStack } from "./embedded-stack.js";
import { consoleOutput, describeError, type Output } from "./output.js";

export interface ProgramDeps {
  output?: Output;
  /** How a command gets its stack (tests pass one that is already running). */
  openStack?: () => Promise<EmbeddedStack>;
  /** Environment for workers a command starts (MODEL_SOURCE, ...); default this process's. */
  env?: NodeJS.ProcessEnv;
}

export function buildProgram(deps: ProgramDeps = {}): Command {
  const out = deps.output ?? consoleOutput;
  const openStack = deps.openStack ?? (() => startEmbeddedStack());
  const withStack =
    <A extends unknown[]>(fn: (stack: EmbeddedStack, ...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      const stack = await openStack();
      try {
        await fn(stack, ...args);
      } finally {
        await stack.stop();
      }
    };

  const program = new Command("speakers")
    .description(
      "Speaker recognition over NATS. Without NATS_URL, starts a local server (store in $SPEAKERS_DATA_DIR or ./data), the worker and the registry for the command.",
    )
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => out.err(s.trimEnd()), writeOut: (s) => out.out(s.trimEnd()) });

  program
    .command("enroll")
    .description("enroll a speaker from audio files (adds to the speaker if the name exists)")
    .argument("<name>", "the speaker's name")
    .argument("<files...>", "WAV, FLAC or Ogg recordings of only this speaker")
    .option("--new", "fail if a speaker with this name already exists")
    .option("--json", "print the reply as JSON")
    .action(
      withStack((stack, name: string, files: string[], o: { new?: boolean; json?: boolean }) =>
        enrollCommand(stack, out, name, files, o),
      ),
    );
  /** A registry command: its arguments, then --json, go to `run` as commander gives them. */
  const registryCommand = <A extends unknown[]>(
    name: string,
    description: string,
    args: string[],
    run: (stack: EmbeddedStack, out: Output, ...args: A) => Promise<unknown>,
  ) => {
    const command = program.command(name).description(description);
    for (const arg of args) command.argument(arg);
    command
      .option("--json", "print the reply as JSON")
      .action(withStack((stack, ...given: A) => run(stack, out, ...given)));
  };
  registryCommand("identify", "who is speaking in this file?", ["<file>"], identifyCommand);
  registryCommand(
    "verify",
    "is this file the named speaker? (exit code 3 when not)",
    ["<name>", "<file>"],
    verifyCommand,
  );
  registryCommand("list", "list enrolled speakers", [], listCommand);
  registryCommand("rename", "rename a speaker", ["<name>", "<new-name>"], renameCommand);
  registryCommand(
    "delete",
    "erase a speaker: samples, voiceprints, their stored audio and history",
    ["<name>"],
    deleteCommand,
  );
  program
    .command("publish")
    .description("publish audio files as captured audio, as if a microphone had heard them")
    .argument("<files...>", "WAV, FLAC or Ogg recordings")
    .option("--device <id>", "device id the clips come from", "cli")
    .option("--room <room>", "room the device is in")
    .option("--transcript <text>", "transcript to attach")
    .option("--json", "print the results as JSON")
    .action(
      withStack(
        (
          stack,
          files: string[],
          o: { device?: string; room?: string; transcript?: string; json?: boolean },
        ) => publishCommand(stack, out, files, o),
      ),
    );
  program
    .command("watch")
    .description("print live speaker events until Ctrl-C")
    .option("--json", "one JSON object per line")
    .action(withStack((stack, o: { json?: boolean }) => watchCommand(stack, out, o)));
  program
    .command("eval")
    .description(
      "measure accuracy on a folder with one sub-folder of recordings per speaker, in a fresh isolated registry",
    )
    .argument("<dir>")
    .option("--enroll <n>", "files per speaker to enroll (the first by name)", positiveInt, "3")
    .option(
      "--enroll-glob <pattern>",
      'enroll the files whose name matches, e.g. "a-enroll-*"; the rest are identified (instead of --enroll)',
    )
    .option(
      "--manifest <csv>",
      "enroll and identify the files a CSV names (columns path, role or split: enroll|test; paths relative to it)",
    )
    .option("--json", "print one JSON object")
    .option("--plots <dir>", "write det.svg and score-histogram.svg there")
    .action(
      (
        dir: string,
        o: { enroll?: string; enrollGlob?: string; manifest?: string; json?: boolean; plots?: string },
      ) => evalCommand(out, dir, o),
    );
  registerProvision(program, out);
  registerReplayCommands(program, out, withStack, deps.env ?? process.env);
  registerCalibrateCommand(program, out, withStack);
  registerHouseholdSourceCommands(program, out, withStack);
  return program;
}

function positiveInt(value: string): string {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("must be a whole number, at least 1");
  return value;
}

/** Runs the CLI; returns the exit code (errors are printed with their code and a hint, never a stack trace). */
export async function runCli(argv: string[], deps: ProgramDeps = {}): Promise<number> {
  const out = deps.output ?? consoleOutput;
  const program = buildProgram(deps).exitOverride();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (
      err instanceof Error &&
      "exitCode" in err &&
      "code" in err &&
      String(err.code).startsWith("commander.")
    ) {
      return Number(err.exitCode);
    }
    out.err(describeError(err));
    return 1;
  }
}
