/**
 * TaskRunner: one task's deployment path (see index.ts for the flow).
 */
import * as aws from "@pulumi/aws";
import type * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { TaskConfig } from "../config";
import { policyDocument, serviceTrustPolicy } from "../shared/iam";
import { githubOidcTrustPolicy } from "../github-oidc";
import { awsLocation } from "../shared/location";
import { GitHubActionsVariables } from "./github-variables";
import { clusterNameFromArn, deployRoleStatements, deployRoleSubjects, executionRoleStatements } from "./policies";
import {
  containerDefinition,
  egressRules,
  githubVariableNames,
  lifecyclePolicy,
  PLACEHOLDER_IMAGE_TAG,
  TASK_CPU_ARCHITECTURE,
  type TaskRunnerVariableNames,
} from "./task-definition";
import { targetIngressRules } from "./target-ingress";
import { TaskStateMachine } from "./task-state-machine";

/** One task from the stack configuration, and where it runs. */
export interface TaskRunnerArgs {
  /** Stack name (dev, prod): part of names, the task definition family and the GitHub variable names. */
  readonly stack: string;
  /** The task, as validated by the stack configuration. */
  readonly task: TaskConfig;
  /** ARN of the account's GitHub Actions OIDC provider (`githubOidcProvider`). */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** Where the task runs: the VPC and its private subnets (with a route out through NAT). */
  readonly network: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string[]> };
  /** Owner (organization or user) of the default GitHub provider, which sets the Actions variables. */
  readonly githubOwner: string;
  /**
   * Explicit GitHub provider for `githubOwner`.
   * @default the stack's default GitHub provider
   */
  readonly githubProvider?: github.Provider;
  /** Days to keep the task's and the state machine's logs. */
  readonly logRetentionDays: number;
  /**
   * Tags for every AWS child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
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

    const location = awsLocation(parent);
    const region = location.region;
    const account = location.account;

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
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", account),
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
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", account),
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
    // The database side: each security group target admits this task on its port (unless manageIngress: false).
    targetIngressRules(
      name,
      this.securityGroup.id,
      task.egress.flatMap((e) =>
        e.securityGroupId && e.manageIngress
          ? [{ securityGroupId: e.securityGroupId, port: e.port, description: `From the ${family} task` }]
          : [],
      ),
      { parent: this, tags },
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
    this.stateMachine = new TaskStateMachine(
      name,
      {
        family,
        task,
        location,
        repositoryUrl: this.repository.repositoryUrl,
        clusterArn: this.clusterArn,
        taskDefinition: this.taskDefinition,
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        subnetIds: args.network.privateSubnetIds,
        securityGroupId: this.securityGroup.id,
        taskLogGroupName: taskLogGroup.name,
        executionLogGroupArn: executionLogGroup.arn,
        tags,
      },
      parent,
    ).stateMachine;
    this.stateMachineArn = this.stateMachine.arn;

    // ---- deploy role (GitHub OIDC) -------------------------------------------------------------------------------
    const subjects = deployRoleSubjects(task);
    this.deployRole = new aws.iam.Role(
      `${name}-deploy`,
      {
        assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((arn) => githubOidcTrustPolicy(arn, subjects)),
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
            .all([this.repository.arn, this.stateMachine.arn, taskLogGroup.arn])
            .apply(([repositoryArn, stateMachineArn, logGroupArn]) =>
              deployRoleStatements({ repositoryArn, stateMachineArn, logGroupArn }),
            ),
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
