/**
 * Runner pods' output (the build logs) in CloudWatch, kept for a retention: the `amazon-cloudwatch-observability`
 * add-on runs Fluent Bit on every node and writes container logs to `/aws/containerinsights/<cluster>/application`.
 * The groups are created here first, with the retention, because Fluent Bit would otherwise create them without
 * one (CloudWatch user guide, "Set up Fluent Bit as a DaemonSet to send logs to CloudWatch Logs").
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { LOG_SHIPPER_POLICIES, managedPolicyArn, podIdentityTrustPolicy } from "./policies";

/** Groups the add-on writes to: containers' output, node services, host logs, performance events. */
export const CONTAINER_INSIGHTS_GROUPS = ["application", "dataplane", "host", "performance"] as const;
/** The add-on's agent and Fluent Bit run as this service account in this namespace. */
const LOG_SHIPPER = { namespace: "amazon-cloudwatch", serviceAccount: "cloudwatch-agent" } as const;

export interface RunnerLogsArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly location: pulumi.Input<AwsLocation>;
  /** Days CloudWatch keeps each group. */
  readonly retentionDays: number;
  /**
   * Tags for every taggable child.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

export class RunnerLogs extends pulumi.ComponentResource {
  /** Where the runner pods' output lands. */
  public readonly applicationLogGroup: aws.cloudwatch.LogGroup;
  public readonly addon: aws.eks.Addon;

  constructor(name: string, args: RunnerLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:arc:RunnerLogs", name, {}, opts);
    const child = { parent: this };
    const tags = args.tags ?? {};
    const location = pulumi.output(args.location);

    const groups = CONTAINER_INSIGHTS_GROUPS.map(
      (group) =>
        new aws.cloudwatch.LogGroup(
          `${name}-${group}`,
          {
            name: pulumi.interpolate`/aws/containerinsights/${args.clusterName}/${group}`,
            retentionInDays: args.retentionDays,
            tags,
          },
          child,
        ),
    );
    this.applicationLogGroup = groups[0];

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "CloudWatch agent and Fluent Bit of the ARC cluster (Pod Identity)",
        assumeRolePolicy: location.apply((l) => podIdentityTrustPolicy(l.account)),
        tags,
      },
      child,
    );
    const attachments = LOG_SHIPPER_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: role.name, policyArn: location.apply((l) => managedPolicyArn(l.partition, policy)) },
          child,
        ),
    );

    this.addon = new aws.eks.Addon(
      `${name}-addon`,
      {
        clusterName: args.clusterName,
        addonName: "amazon-cloudwatch-observability",
        podIdentityAssociations: [{ roleArn: role.arn, serviceAccount: LOG_SHIPPER.serviceAccount }],
        resolveConflictsOnUpdate: "OVERWRITE",
        tags,
      },
      { ...child, dependsOn: [...groups, ...attachments] },
    );

    this.registerOutputs({ applicationLogGroup: this.applicationLogGroup.name });
  }
}
