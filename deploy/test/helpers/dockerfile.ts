import { readFileSync } from "node:fs";

export interface Stage {
  name: string;
  /** The image or earlier stage it starts FROM. */
  from: string;
  /** Instructions with continuation lines joined, e.g. ["USER node", "CMD [...]"]. */
  instructions: string[];
}

/** Just enough of a Dockerfile parser for the tests: stages, their instructions, and ARG defaults. */
export function parseDockerfile(path: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync(path, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stages.push({ from: from[1] ?? "", name: from[2] ?? "", instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current) current.instructions.push(line);
    else {
      const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
      if (arg?.[1] && arg[2]) args[arg[1]] = arg[2];
    }
  }
  return { args, stages };
}

/** The stage and the stages it builds on, nearest first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  for (let stage = stages.find((s) => s.name === name); stage; ) {
    chain.push(stage);
    const parent = stage.from;
    stage = stages.find((s) => s.name === parent);
  }
  return chain;
}

/** The last value of an instruction (CMD, USER, HEALTHCHECK...) in effect for a stage. */
export function effective(stages: Stage[], name: string, keyword: string): string | undefined {
  for (const stage of stageChain(stages, name)) {
    const found = stage.instructions.filter((i) => i.toUpperCase().startsWith(`${keyword} `)).at(-1);
    if (found) return found.slice(keyword.length + 1).trim();
  }
  return undefined;
}

/** `CMD ["a", "b"]` -> ["a", "b"]; `HEALTHCHECK --x=1 CMD ["a"]` -> ["a"]; `HEALTHCHECK NONE` -> []. */
export function execForm(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (/^NONE$/i.test(value)) return [];
  const json = value.slice(value.indexOf("["));
  return JSON.parse(json) as string[];
}
