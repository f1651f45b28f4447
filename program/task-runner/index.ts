/**
 * TaskRunner: the deployment path for one one-shot task (a database migration, for example).
 *
 *   GitHub Actions --OIDC--> deploy role --push--> ECR repository
 *                                        --StartExecution--> state machine --runTask.sync--> ECS Fargate task
 *
 * One instance per task in config (`cirunners:tasks`). See docs/task-runner.md for the flow, the config and the
 * costs, templates/run-task.yml for the application repository's workflow and tools/run-task for the CLI.
 */
import * as aws from "@pulumi/aws";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { TaskConfig } from "../config";
import { policyDocument, serviceTrustPolicy } from "../shared/iam";
import { LOG_STREAM_PREFIX } from "./contract";
import {
  clusterNameFromArn,
  deployRoleStatements,
  deployRoleTrustPolicy,
  executionRoleStatements,
  githubSubjects,
  stateMachineRoleStatements,
} from "./policies";
import { taskRunnerDefinition } from "./state-machine";

export * from "./contract";
export * from "./policies";
export * from "./state-machine";

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

/** Names of the GitHub Actions variables set on each repository allowed to run the task. */
export interface TaskRunnerVariableNames {
  roleArn: string;
  region: string;
  repositoryUrl: string;
  stateMachineArn: string;
}

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

export interface TaskRunnerArgs {
  /** Stack name (dev, prod): part of names, the task definition family and the GitHub variable names. */
  stack: string;
  /** The task, as validated by config.ts. */
  task: TaskConfig;
  /** ARN of the account's GitHub Actions OIDC provider (`githubOidcProvider`). */
  oidcProviderArn: pulumi.Input<string>;
  /** Where the task runs: the VPC and its private subnets (with a route out through NAT). */
  network: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string[]> };
  /** Owner (organization or user) of the default GitHub provider, which sets the Actions variables. */
  githubOwner: string;
  /** Explicit GitHub provider for `githubOwner`; the default provider when omitted. */
  githubProvider?: github.Provider;
  /** Days to keep the task's and the state machine's logs. */
  logRetentionDays: number;
  /** Tags for every AWS child. */
  tags?: Record<string, string>;
}

/**
 * One task's deployment path: ECR repository, ECS cluster (unless `task.clusterArn`), task definition, roles,
 * security group, state machine, deploy role trusted by GitHub OIDC, and the GitHub Actions variables.
 */
export class TaskRunner extends pulumi.ComponentResource {
  /** The deploy role the workflow assumes. */
  public readonly roleArn: pulumi.Output<string>;
  public readonly repositoryUrl: pulumi.Output<string>;
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly clusterArn: pulumi.Output<string>;
  /** The task container's log group. */
  public readonly logGroupName: pulumi.Output<string>;
  public readonly repository: aws.ecr.Repository;
  public readonly taskDefinition: aws.ecs.TaskDefinition;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly stateMachine: aws.sfn.StateMachine;
  public readonly deployRole: aws.iam.Role;
  public readonly executionRole: aws.iam.Role;
  /**
   * The task's own role, with no permissions. Grant what the task needs with a policy on it, e.g.
   * `new aws.iam.RolePolicy("db-migrate-s3", { role: runner.taskRole.id, policy: ... })`.
   */
  public readonly taskRole: aws.iam.Role;
  /** Names of the GitHub Actions variables set on the task's repositories. */
  public readonly variableNames: TaskRunnerVariableNames;

  constructor(name: string, args: TaskRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:TaskRunner", name, {}, opts);
    const { task, stack, tags } = args;
    const family = `${task.name}-${stack}`;
    const parent = { parent: this };

    const identity = aws.getCallerIdentityOutput({}, parent);
    const region = aws.getRegionOutput({}, parent).region;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const scope = pulumi
      .all([partition, region, identity.accountId])
      .apply(([p, r, a]) => ({ partition: p, region: r, accountId: a }));

    // ---- image repository ----------------------------------------------------------------------------------
    this.repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: family,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        forceDelete: false,
        tags,
      },
      parent,
    );
    this.repositoryUrl = this.repository.repositoryUrl;
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      { repository: this.repository.name, policy: lifecyclePolicy(task.keepImages) },
      parent,
    );

    // ---- logs ------------------------------------------------------------------------------------------------
    const taskLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/cirunners/${stack}/tasks/${task.name}`, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    // Under /aws/vendedlogs/ so Step Functions' log delivery does not grow the account's log resource policy.
    const executionLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-executions`,
      { name: `/aws/vendedlogs/states/cirunners-${family}`, retentionInDays: args.logRetentionDays, tags },
      parent,
    );
    this.logGroupName = taskLogGroup.name;

    // ---- cluster -----------------------------------------------------------------------------------------------
    if (task.clusterArn) {
      clusterNameFromArn(task.clusterArn); // a malformed ARN fails here, not at the first run
      this.clusterArn = pulumi.output(task.clusterArn);
    } else {
      const cluster = new aws.ecs.Cluster(
        `${name}-cluster`,
        { name: family, settings: [{ name: "containerInsights", value: "enabled" }], tags },
        parent,
      );
      this.clusterArn = cluster.arn;
    }

    // ---- task roles --------------------------------------------------------------------------------------------
    this.executionRole = new aws.iam.Role(
      `${name}-execution`,
      {
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", identity.accountId),
        description: `ECS starts ${family} tasks with it (image pull, logs, secrets)`,
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: this.executionRole.id,
        policy: policyDocument(
          pulumi
            .all([this.repository.arn, taskLogGroup.arn])
            .apply(([repositoryArn, logGroupArn]) =>
              executionRoleStatements({ repositoryArn, logGroupArn, secrets: task.secrets }),
            ),
        ),
      },
      parent,
    );
    this.taskRole = new aws.iam.Role(
      `${name}-task`,
      {
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", identity.accountId),
        description: `The ${family} task's own identity (no permissions unless granted)`,
        tags,
      },
      parent,
    );

    // ---- network -----------------------------------------------------------------------------------------------
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-task`,
      {
        description: `${family} task: no ingress, egress only to its destinations and HTTPS`,
        vpcId: args.network.vpcId,
        ingress: [],
        egress: egressRules(task.egress),
        tags,
      },
      parent,
    );

    // ---- task definition ----------------------------------------------------------------------------------------
    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(task.cpu),
        memory: String(task.memory),
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: TASK_CPU_ARCHITECTURE },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        volumes: [{ name: "tmp" }],
        containerDefinitions: pulumi
          .all([this.repository.repositoryUrl, taskLogGroup.name, region])
          .apply(([url, logGroupName, r]) =>
            JSON.stringify([
              containerDefinition({ task, image: `${url}:${PLACEHOLDER_IMAGE_TAG}`, logGroupName, region: r }),
            ]),
          ),
        tags,
      },
      parent,
    );

    // ---- state machine ------------------------------------------------------------------------------------------
    const stateMachineRole = new aws.iam.Role(
      `${name}-sfn`,
      {
        assumeRolePolicy: serviceTrustPolicy("states.amazonaws.com", identity.accountId),
        description: `Step Functions runs ${family} tasks with it`,
        tags,
      },
      parent,
    );
    const stateMachinePolicy = new aws.iam.RolePolicy(
      `${name}-sfn`,
      {
        role: stateMachineRole.id,
        policy: policyDocument(
          pulumi
            .all([scope, this.clusterArn, this.executionRole.arn, this.taskRole.arn])
            .apply(([s, clusterArn, executionRoleArn, taskRoleArn]) =>
              stateMachineRoleStatements(s, { family, clusterArn, executionRoleArn, taskRoleArn }),
            ),
        ),
      },
      parent,
    );
    this.stateMachine = new aws.sfn.StateMachine(
      `${name}-sfn`,
      {
        type: "STANDARD",
        roleArn: stateMachineRole.arn,
        definition: pulumi
          .all([
            this.repository.repositoryUrl,
            this.clusterArn,
            args.network.privateSubnetIds,
            this.securityGroup.id,
            taskLogGroup.name,
          ])
          .apply(([repositoryUrl, clusterArn, subnetIds, securityGroupId, logGroupName]) =>
            JSON.stringify(
              taskRunnerDefinition({
                family,
                containerName: task.name,
                repositoryUrl,
                clusterArn,
                subnetIds,
                securityGroupId,
                logGroupName,
                taskTimeoutSeconds: task.timeoutMinutes * 60,
              }),
            ),
          ),
        // Every state transition, without inputs and outputs (they hold the task definition's environment).
        loggingConfiguration: {
          level: "ALL",
          includeExecutionData: false,
          logDestination: pulumi.interpolate`${executionLogGroup.arn}:*`,
        },
        tags,
      },
      // The role must be able to deliver logs before Step Functions validates the logging configuration.
      { parent: this, dependsOn: [stateMachinePolicy, this.taskDefinition] },
    );
    this.stateMachineArn = this.stateMachine.arn;

    // ---- deploy role (GitHub OIDC) -------------------------------------------------------------------------------
    const subjects = githubSubjects(task);
    this.deployRole = new aws.iam.Role(
      `${name}-deploy`,
      {
        assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((arn) => deployRoleTrustPolicy(arn, subjects)),
        description: `GitHub Actions (${subjects.join(", ")}) pushes ${family} images and runs the task`.slice(0, 1000),
        maxSessionDuration: 3600,
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-deploy`,
      {
        role: this.deployRole.id,
        policy: policyDocument(
          pulumi
            .all([this.repository.arn, this.stateMachine.arn])
            .apply(([repositoryArn, stateMachineArn]) => deployRoleStatements({ repositoryArn, stateMachineArn })),
        ),
      },
      parent,
    );
    this.roleArn = this.deployRole.arn;

    // ---- GitHub Actions variables -----------------------------------------------------------------------------------
    this.variableNames = githubVariableNames(task.name, stack);
    const values: Record<keyof TaskRunnerVariableNames, pulumi.Input<string>> = {
      roleArn: this.deployRole.arn,
      region,
      repositoryUrl: this.repository.repositoryUrl,
      stateMachineArn: this.stateMachine.arn,
    };
    const providers = new Map<string, github.Provider | undefined>([
      [args.githubOwner.toLowerCase(), args.githubProvider],
    ]);
    for (const { repository } of task.repositories) {
      const [owner, repositoryName] = repository.split("/");
      if (!providers.has(owner.toLowerCase())) {
        // A repository of another owner: a provider for that owner (same credentials as the default provider).
        providers.set(
          owner.toLowerCase(),
          new github.Provider(`${name}-github-${owner.toLowerCase()}`, { owner }, parent),
        );
      }
      const provider = providers.get(owner.toLowerCase());
      for (const key of Object.keys(values) as (keyof TaskRunnerVariableNames)[]) {
        new github.ActionsVariable(
          `${name}-${owner}-${repositoryName}-${key}`.toLowerCase(),
          { repository: repositoryName, variableName: this.variableNames[key], value: values[key] },
          { parent: this, provider },
        );
      }
    }

    this.registerOutputs({
      roleArn: this.roleArn,
      repositoryUrl: this.repositoryUrl,
      stateMachineArn: this.stateMachineArn,
      clusterArn: this.clusterArn,
      logGroupName: this.logGroupName,
    });
  }
}
