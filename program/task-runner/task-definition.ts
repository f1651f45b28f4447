/**
 * Pure decisions of the task runner's ECS side and its GitHub variable names: the task definition's container,
 * the security group's egress, the ECR lifecycle policy.
 */
import type { TaskConfig } from "../config";
import { LOG_STREAM_PREFIX } from "./contract";
/**
 * Image tag of the Pulumi-managed task definition revision. It is never pushed and never run: every execution
 * registers its own revision with the tag it was given. Running the Pulumi revision by hand fails at the image
 * pull with this tag in the error, which says what happened.
 */
export const PLACEHOLDER_IMAGE_TAG = "not-deployed-run-through-state-machine";

/**
 * CPU architecture of the task. X86_64 so that a plain `docker build` on GitHub's ubuntu-latest runners
 * produces a runnable image without emulation (Fargate ARM64 is about 20 % cheaper; switching needs arm64
 * image builds).
 */
export const TASK_CPU_ARCHITECTURE = "X86_64";

/** Port of the explicit HTTPS egress rule (image pull, logs, secrets). */
export const HTTPS_PORT = 443;

/**
 * Names of the GitHub Actions variables set on each repository allowed to run the task (a type alias, not an
 * interface, so it is a `Record<string, string>` for GitHubActionsVariables).
 */
export type TaskRunnerVariableNames = {
  roleArn: string;
  region: string;
  repositoryUrl: string;
  stateMachineArn: string;
};

/**
 * `CIRUNNERS_<TASK>_<STACK>_{ROLE_ARN,REGION,ECR_REPOSITORY,STATE_MACHINE_ARN}`: the stack is part of the name
 * because dev and prod stacks usually serve the same application repository.
 */
export function githubVariableNames(taskName: string, stack: string): TaskRunnerVariableNames {
  const prefix = `CIRUNNERS_${taskName}_${stack}`.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return {
    roleArn: `${prefix}_ROLE_ARN`,
    region: `${prefix}_REGION`,
    repositoryUrl: `${prefix}_ECR_REPOSITORY`,
    stateMachineArn: `${prefix}_STATE_MACHINE_ARN`,
  };
}

/** The ECR lifecycle policy that keeps the newest `keepImages` images (tagged or not). */
export function lifecyclePolicy(keepImages: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `keep the last ${keepImages} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
        action: { type: "expire" },
      },
    ],
  });
}

/** An egress rule of the task's security group. */
export interface EgressRule {
  description: string;
  protocol: "tcp";
  fromPort: number;
  toPort: number;
  cidrBlocks?: string[];
  securityGroups?: string[];
}

/**
 * The task's egress: the configured destinations (TCP to a security group or a CIDR block) plus HTTPS to
 * anywhere, which Fargate needs to pull the image from ECR (and its layers from S3), to send logs and to read
 * secrets through the NAT gateway. With VPC endpoints for ecr.api, ecr.dkr, logs and secretsmanager/ssm and
 * the S3 gateway endpoint, this rule could be narrowed to the endpoints' security group and the S3 prefix list.
 * DNS needs no rule: security groups do not filter traffic to the VPC's Amazon DNS server.
 */
export function egressRules(egress: TaskConfig["egress"]): EgressRule[] {
  const rules: EgressRule[] = egress.map((e) => ({
    description: e.description ?? `TCP ${e.port} to ${e.securityGroupId ?? e.cidrBlock}`,
    protocol: "tcp",
    fromPort: e.port,
    toPort: e.port,
    ...(e.securityGroupId ? { securityGroups: [e.securityGroupId] } : { cidrBlocks: [e.cidrBlock as string] }),
  }));
  rules.push({
    description:
      "HTTPS to AWS APIs through the NAT gateway: ECR image pull (and S3 layers), CloudWatch Logs, Secrets Manager/SSM",
    protocol: "tcp",
    fromPort: HTTPS_PORT,
    toPort: HTTPS_PORT,
    cidrBlocks: ["0.0.0.0/0"],
  });
  return rules;
}

/** The task's container definition (ECS JSON, camelCase). */
export function containerDefinition(args: {
  task: TaskConfig;
  image: string;
  logGroupName: string;
  region: string;
}): Record<string, unknown> {
  const { task } = args;
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return {
    name: task.name,
    image: args.image,
    essential: true,
    ...(task.command ? { command: task.command } : {}),
    environment: Object.entries(task.environment)
      .map(([name, value]) => ({ name, value }))
      .sort(byName),
    secrets: Object.entries(task.secrets)
      .map(([name, valueFrom]) => ({ name, valueFrom }))
      .sort(byName),
    readonlyRootFilesystem: task.readonlyRootFilesystem,
    // A writable /tmp (task storage) for tools that need scratch space even with a read-only root.
    mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
    // An init process reaps children and forwards SIGTERM when the task is stopped (timeout).
    linuxParameters: { initProcessEnabled: true },
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": args.logGroupName,
        "awslogs-region": args.region,
        "awslogs-stream-prefix": LOG_STREAM_PREFIX,
      },
    },
  };
}
