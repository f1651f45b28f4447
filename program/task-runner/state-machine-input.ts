/**
 * The state machine's checks of its input (contract/task.ts `taskRunInputSchema`) and of the task's allow-list
 * (`overridePolicyProblems`), and the ECS container override built from it (`ecsContainerOverride`), as JSONata.
 * The workflow side checks the same contract before it starts an execution; the state machine checks again
 * because anyone holding the deploy role can call StartExecution directly.
 *
 * JSONata does not tell a one-element array from its element (a path to `["migrate"]` may yield `"migrate"`), so
 * arrays are normalised with an array constructor (`[$v]`) before they are counted or sent.
 */
import { ENV_NAME_PATTERN, IMAGE_TAG_PATTERN } from "./contract";

/** Per-task allow-list from config (`allowCommandOverride`, `allowedEnvironment`). */
export interface OverrideAllowList {
  allowCommandOverride: boolean;
  allowedEnvironment: readonly string[];
}

/** Most command arguments a run may pass (contract/task.ts). */
const MAX_COMMAND_ARGUMENTS = 64;
const INPUT_KEYS = ["imageTag", "command", "environment"];

/** `{% ... %}` around an expression written over several lines. */
export function jsonata(expression: string): string {
  return `{% ${expression.replace(/\s*\n\s*/g, " ").trim()} %}`;
}

const input = "$states.input";
const command = `${input}.command`;
const environment = `${input}.environment`;

/** JSONata (boolean): the input matches taskRunInputSchema's shape (the override size is ECS's to refuse). */
export function validInputCondition(): string {
  return jsonata(`
    $type(${input}) = "object"
    and $count($filter($keys(${input}), function($k) { $not($k in ${JSON.stringify(INPUT_KEYS)}) })) = 0
    and $type(${input}.imageTag) = "string" and $contains(${input}.imageTag, ${IMAGE_TAG_PATTERN.toString()})
    and ${input}.imageTag != "latest"
    and ($not($exists(${command})) or (
      $count([${command}]) >= 1 and $count([${command}]) <= ${MAX_COMMAND_ARGUMENTS}
      and $count($filter([${command}], function($a) { $type($a) != "string" or $a = "" })) = 0
    ))
    and ($not($exists(${environment})) or (
      $type(${environment}) = "object"
      and $count($filter($keys(${environment}), function($k) {
        $not($contains($k, ${ENV_NAME_PATTERN.toString()})) or $type($lookup(${environment}, $k)) != "string"
      })) = 0
    ))`);
}

/** JSONata (array of strings): what the input asks for that the allow-list refuses (overridePolicyProblems' words). */
export function allowListProblems(allow: OverrideAllowList): string {
  const allowed = JSON.stringify([...allow.allowedEnvironment]);
  const allowedText = allow.allowedEnvironment.join(", ") || "none";
  const commandProblem = allow.allowCommandOverride
    ? "[]"
    : `$exists(${command}) ? ["command: this task does not allow a command override"] : []`;
  return `(
    $refused := $filter($keys(${environment}), function($k) { $not($k in ${allowed}) });
    $append(
      ${commandProblem},
      $count($refused) > 0
        ? ["environment: " & $join([$refused], ", ") & " not allowed for this task (allowed: ${allowedText})"]
        : []
    )
  )`;
}

/**
 * JSONata (object): the task container's ECS ContainerOverride, as contract/task.ts `ecsContainerOverride` builds
 * it: `Command` only when given, `Environment` sorted by name and only when not empty.
 */
export function containerOverrideExpression(containerName: string): string {
  return `$merge([
    { "Name": ${JSON.stringify(containerName)} },
    $exists(${command}) ? { "Command": [${command}] } : {},
    $count($keys(${environment})) > 0
      ? { "Environment": [$map($sort($keys(${environment})), function($k) { { "Name": $k, "Value": $lookup(${environment}, $k) } })] }
      : {}
  ])`;
}
