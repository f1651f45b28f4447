/**
 * Names the program builds from the stack name, with the limits AWS puts on them. Pulumi accepts stack names of
 * up to 100 characters with dots; several of these names do not: checking here turns what would be a failed
 * `pulumi up` (or a silently truncated, colliding name) into a config error at preview.
 *
 * Each entry says where the program builds the name: a longer component name there must be reflected here (no
 * test ties the two yet).
 * Names Pulumi auto-names (IAM roles, DynamoDB tables, log groups with a prefix) carry no stack name, and the
 * runner-cache bucket keeps a hash when its name would pass S3's 63 characters: none of them is listed.
 */

/** Characters that Lambda function, SQS queue and CodeBuild project names all accept. */
const NAME_CHARACTERS = /^[A-Za-z0-9_-]+$/;

export interface StackDerivedName {
  /** What the name is, for the message. */
  what: string;
  /** The config key that changes the name, when one does (otherwise only the stack name does). */
  key?: string;
  /** AWS's maximum length. */
  limit: number;
  /** The name for a stack. */
  name: (stack: string) => string;
}

/** The names every stack has. */
export const STACK_NAMES: readonly StackDerivedName[] = [
  // program/shared/lambda.ts: `<component>-<stack>`; the longest component is the webhook function
  // (program/ephemeral-runners/ingress.ts: `runners-ingress` + `-webhook`).
  { what: "Lambda function name", limit: 64, name: (stack) => `runners-ingress-webhook-${stack}` },
  // program/ephemeral-runners/ingress.ts: `<ingress>-<stack>-jobs-dlq.fifo`.
  { what: "SQS queue name", limit: 80, name: (stack) => `runners-ingress-${stack}-jobs-dlq.fifo` },
];

/** The CodeConnections connection's default name (program/codebuild-runners/connection.ts). */
export const CONNECTION_NAME: StackDerivedName = {
  what: "CodeConnections connection name",
  key: "codebuild.connectionName",
  limit: 32,
  name: (stack) => `gha-runners-${stack}`,
};

/** A CodeBuild project per region (program/codebuild-runners/decisions.ts, `runnerProjectName`). */
export function codebuildProjectName(region: string): StackDerivedName {
  return { what: "CodeBuild project name", limit: 255, name: (stack) => `gha-runner-${stack}-${region}` };
}

/** Problems with the names a stack would get; `file` is the stack file the message names. */
export function stackNameProblems(stack: string, names: readonly StackDerivedName[], file: string): string[] {
  const problems: string[] = [];
  if (!NAME_CHARACTERS.test(stack))
    problems.push(
      `stack name "${stack}" (${file}): Lambda function, SQS queue and CodeBuild project names take letters, digits, "-" and "_" only; choose a stack name without other characters`,
    );
  for (const entry of names) {
    const name = entry.name(stack);
    if (name.length <= entry.limit) continue;
    const room = entry.limit - (name.length - stack.length);
    const fix = entry.key
      ? `set cirunners:${entry.key} or use a stack name of at most ${room} characters`
      : `use a stack name of at most ${room} characters`;
    problems.push(
      `stack name "${stack}" (${file}): the ${entry.what} "${name}" would have ${name.length} characters, AWS allows ${entry.limit}; ${fix}`,
    );
  }
  return problems;
}
