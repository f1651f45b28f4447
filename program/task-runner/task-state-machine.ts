/**
 * The task's state machine and the role it runs with: registers a revision of the family with the requested
 * image and runs it on the cluster (see state-machine.ts for the definition).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import type { TaskConfig } from "../config";
import { policyDocument, serviceTrustPolicy } from "../shared/iam";
import { stateMachineRoleStatements } from "./policies";
import { taskRunnerDefinition } from "./state-machine";

/** What the state machine runs, where, and where it logs. */
export interface TaskStateMachineArgs {
  /** Task definition family (`<task>-<stack>`). */
  readonly family: string;
  /** The task: its name (the container's), timeout and override allow-list. */
  readonly task: TaskConfig;
  /** Partition, region and account of the stack. */
  readonly location: pulumi.Input<AwsLocation>;
  /** ECR repository URL, without tag. */
  readonly repositoryUrl: pulumi.Input<string>;
  readonly clusterArn: pulumi.Input<string>;
  /** The Pulumi-managed task definition: the first execution copies it, so it must exist first. */
  readonly taskDefinition: aws.ecs.TaskDefinition;
  /** The two roles the state machine may pass to ECS. */
  readonly executionRoleArn: pulumi.Input<string>;
  readonly taskRoleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string[]>;
  readonly securityGroupId: pulumi.Input<string>;
  /** The task container's log group (named in each execution's result). */
  readonly taskLogGroupName: pulumi.Input<string>;
  /** The log group of the executions' state transitions. */
  readonly executionLogGroupArn: pulumi.Input<string>;
  /**
   * Tags for every child.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class TaskStateMachine extends pulumi.ComponentResource {
  public readonly stateMachine: aws.sfn.StateMachine;

  constructor(name: string, args: TaskStateMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:TaskStateMachine", name, {}, opts);
    const { family, task, tags } = args;
    const parent = { parent: this };
    const location = pulumi.output(args.location);
    const role = new aws.iam.Role(
      `${name}-sfn`,
      {
        assumeRolePolicy: serviceTrustPolicy(
          "states.amazonaws.com",
          location.apply((where) => where.account),
        ),
        description: `Step Functions runs ${family} tasks with it`,
        tags,
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-sfn`,
      {
        role: role.id,
        policy: policyDocument(
          pulumi
            .all([location, args.clusterArn, args.executionRoleArn, args.taskRoleArn])
            .apply(([where, clusterArn, executionRoleArn, taskRoleArn]) =>
              stateMachineRoleStatements(where, { family, clusterArn, executionRoleArn, taskRoleArn }),
            ),
        ),
      },
      parent,
    );
    this.stateMachine = new aws.sfn.StateMachine(
      `${name}-sfn`,
      {
        type: "STANDARD",
        roleArn: role.arn,
        definition: pulumi
          .all([
            location,
            args.repositoryUrl,
            args.clusterArn,
            args.subnetIds,
            args.securityGroupId,
            args.taskLogGroupName,
          ])
          .apply(([where, repositoryUrl, clusterArn, subnetIds, securityGroupId, logGroupName]) =>
            JSON.stringify(
              taskRunnerDefinition({
                partition: where.partition,
                family,
                containerName: task.name,
                repositoryUrl,
                clusterArn,
                subnetIds,
                securityGroupId,
                logGroupName,
                taskTimeoutSeconds: task.timeoutMinutes * 60,
                allowCommandOverride: task.allowCommandOverride,
                allowedEnvironment: task.allowedEnvironment,
              }),
            ),
          ),
        // Every state transition, without inputs and outputs (they hold the task definition's environment).
        loggingConfiguration: {
          level: "ALL",
          includeExecutionData: false,
          logDestination: pulumi.interpolate`${args.executionLogGroupArn}:*`,
        },
        tags,
      },
      // The role must be able to deliver logs before Step Functions validates the logging configuration.
      { parent: this, dependsOn: [policy, args.taskDefinition] },
    );
    this.registerOutputs({ stateMachineArn: this.stateMachine.arn });
  }
}
