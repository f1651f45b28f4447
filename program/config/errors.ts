/**
 * Error formatting for the stack configuration: one message that names every wrong key as the stack file spells
 * it (`cirunners:runners.pools[0].maxRunners`), what was found and what was expected; never a stack trace.
 */
import type { z } from "zod";
import { PROJECT } from "./primitives";

/**
 * A bad stack configuration: every problem of one run, each line naming the stack file and the key, what was
 * found and what was expected. `problems` holds the lines without the file name.
 */
export class ConfigError extends Error {
  constructor(
    public readonly problems: string[],
    public readonly file = "the stack file",
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`invalid stack configuration in ${file} (${count}):\n${problems.map((p) => `  - ${file}: ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function keyPath(path: PropertyKey[]): string {
  let out = `${PROJECT}:${String(path[0])}`;
  for (const part of path.slice(1)) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

export function formatIssue(issue: z.core.$ZodIssue): string[] {
  // A union reports its branches' issues; show the branch closest to the input.
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const unknownKeys = (errors: z.core.$ZodIssue[]) => errors.filter((e) => e.code === "unrecognized_keys").length;
    const best = [...issue.errors].sort((a, b) => unknownKeys(a) - unknownKeys(b) || a.length - b.length)[0];
    return best.flatMap((inner) => formatIssue({ ...inner, path: [...issue.path, ...inner.path] }));
  }
  const where = keyPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key (check its spelling)`);
  }
  const found = "input" in issue ? describe(issue.input) : "an invalid value";
  let expected = issue.message;
  if (issue.code === "invalid_type") expected = `expected ${issue.expected}`;
  if (issue.code === "too_small" && issue.origin === "array")
    expected = issue.message.startsWith("expected")
      ? issue.message
      : `expected at least ${String(issue.minimum)} item(s)`;
  if (issue.code === "too_small" && issue.origin === "number")
    expected = `expected a number >= ${String(issue.minimum)}`;
  if (issue.code === "too_big" && issue.origin === "number") expected = `expected a number <= ${String(issue.maximum)}`;
  if (issue.code === "invalid_value")
    expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return [`${where}: ${expected}, found ${found}`];
}
