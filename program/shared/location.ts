import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";

/**
 * Partition, region and account of the provider `opts` selects (the stack's default provider when none): every
 * ARN the program builds starts from this, so a stack in cn-north-1 or us-gov-west-1 names its own partition.
 */
export function awsLocation(opts: pulumi.InvokeOutputOptions): pulumi.Output<AwsLocation> {
  return pulumi
    .all([
      aws.getPartitionOutput({}, opts).partition,
      aws.getRegionOutput({}, opts).region,
      aws.getCallerIdentityOutput({}, opts).accountId,
    ])
    .apply(([partition, region, account]) => ({ partition, region, account }));
}
