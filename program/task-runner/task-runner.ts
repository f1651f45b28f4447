/**
 * TaskRunner: one task's deployment path (see index.ts for the flow).
 */
import * as aws from "@pulumi/aws";
import type * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import type { TaskConfig } from "../config";
import { policyDocument, serviceTrustPolicy } from "../shared/iam";
import { GitHubActionsVariables } from "./github-variables";
import {
  clusterNameFromArn,
  deployRoleStatements,
  deployRoleTrustPolicy,
  executionRoleStatements,
  githubSubjects,
  stateMachineRoleStatements,
} from "./policies";
import { taskRunnerDefinition } from "./state-machine";
import {
  containerDefinition,
  egressRules,
  githubVariableNames,
  lifecyclePolicy,
  PLACEHOLDER_IMAGE_TAG,
  TASK_CPU_ARCHITECTURE,
  type TaskRunnerVariableNames,
} from "./task-definition";

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
    const location = pulumi
      .all([partition, region, identity.accountId])
      .apply(([p, r, a]): AwsLocation => ({ partition: p, region: r, account: a }));

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
            .all([location, this.clusterArn, this.executionRole.arn, this.taskRole.arn])
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
            partition,
            this.repository.repositoryUrl,
            this.clusterArn,
            args.network.privateSubnetIds,
            this.securityGroup.id,
            taskLogGroup.name,
          ])
          .apply(([p, repositoryUrl, clusterArn, subnetIds, securityGroupId, logGroupName]) =>
            JSON.stringify(
              taskRunnerDefinition({
                partition: p,
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
    new GitHubActionsVariables(
      name,
      {
        names: this.variableNames,
        values: {
          roleArn: this.deployRole.arn,
          region,
          repositoryUrl: this.repository.repositoryUrl,
          stateMachineArn: this.stateMachine.arn,
        },
        repositories: task.repositories.map((r) => r.repository),
        githubOwner: args.githubOwner,
        githubProvider: args.githubProvider,
      },
      parent,
    );

    this.registerOutputs({
      roleArn: this.roleArn,
      repositoryUrl: this.repositoryUrl,
      stateMachineArn: this.stateMachineArn,
      clusterArn: this.clusterArn,
      logGroupName: this.logGroupName,
    });
  }
}
