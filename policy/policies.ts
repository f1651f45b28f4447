// The full list of the pack's policies. Importing this module does not start the policy pack (that is
// index.ts), so tests, the offline preview (policy/evaluate.ts) and benchmarks evaluate the policies directly.
import type { Policies } from "@pulumi/policy";
import { ebsEncrypted, ebsResourcePolicies } from "./rules/ebs";
import { ec2Policies } from "./rules/ec2";
import { exposurePolicies } from "./rules/exposure";
import { iamPolicies } from "./rules/iam";
import { asyncLambdaFailureDestination } from "./rules/lambda";
import { s3Policies } from "./rules/s3";
import { servicePolicies } from "./rules/services";
import { workloadPolicies } from "./rules/workloads";

export const policies: Policies = [
  ...iamPolicies,
  ebsEncrypted,
  ...ebsResourcePolicies,
  ...ec2Policies,
  ...servicePolicies,
  ...workloadPolicies,
  ...exposurePolicies,
  asyncLambdaFailureDestination,
  ...s3Policies,
];
