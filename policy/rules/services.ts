// SQS, ECR and CloudWatch Logs baseline policies.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { defineResourcePolicy } from "../lib/kit";
import { type EcrRepositoryProps, type LogGroupProps, type SqsQueueProps, T } from "../lib/types";
import { boolish, isRecord, isUnknown } from "../lib/unknown";

export const sqsEncrypted: ResourceValidationPolicy = defineResourcePolicy<SqsQueueProps>({
  name: "aws-sqs-queue-encrypted",
  description:
    "SQS queues must enable server-side encryption explicitly (sqsManagedSseEnabled: true or kmsMasterKeyId).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Set sqsManagedSseEnabled: true (SSE-SQS, no key to manage) or kmsMasterKeyId: <KMS key ARN or alias> (SSE-KMS; producers then need " +
    "kms:GenerateDataKey and consumers kms:Decrypt on that key). Job payloads carry repository and workflow data.",
  tags: ["sqs", "encryption"],
  types: [T.sqsQueue],
  check: ({ props, report }) => {
    const kms = props.kmsMasterKeyId;
    if (isUnknown(kms) || (typeof kms === "string" && kms !== "")) {
      return;
    }
    const managed = boolish(props.sqsManagedSseEnabled, false);
    if (managed === true || managed === "unknown") {
      return;
    }
    report(
      `Server-side encryption is not enabled explicitly (sqsManagedSseEnabled = ${props.sqsManagedSseEnabled === undefined ? "not set" : String(props.sqsManagedSseEnabled)}, ` +
        `no kmsMasterKeyId). Set sqsManagedSseEnabled: true, or kmsMasterKeyId for a customer managed key.`,
    );
  },
});

export const ecrImmutableTags: ResourceValidationPolicy = defineResourcePolicy<EcrRepositoryProps>({
  name: "aws-ecr-repository-immutable-tags",
  description: "ECR repositories must use immutable image tags.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set imageTagMutability: "IMMUTABLE" (or "IMMUTABLE_WITH_EXCLUSION" with explicit exclusion filters), and publish a new tag per build ' +
    "(e.g. the git SHA) so a pushed runner image can never be swapped under an existing tag.",
  tags: ["ecr", "supply-chain"],
  types: [T.ecrRepository],
  check: ({ props, report }) => {
    const mutability = props.imageTagMutability;
    if (isUnknown(mutability) || mutability === "IMMUTABLE" || mutability === "IMMUTABLE_WITH_EXCLUSION") {
      return;
    }
    report(
      `imageTagMutability is ${mutability === undefined || mutability === null ? 'not set (the default is "MUTABLE")' : `"${String(mutability)}"`}: ` +
        'a tag can be re-pointed to another image. Set imageTagMutability: "IMMUTABLE".',
    );
  },
});

export const ecrScanOnPush: ResourceValidationPolicy = defineResourcePolicy<EcrRepositoryProps>({
  name: "aws-ecr-repository-scan-on-push",
  description: "ECR repositories should scan images on push.",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps:
    "Set imageScanningConfiguration: { scanOnPush: true }. If the account uses registry-level enhanced scanning " +
    "(aws.ecr.RegistryScanningConfiguration), exempt the repositories by name or tag in the policy config.",
  tags: ["ecr", "supply-chain"],
  types: [T.ecrRepository],
  check: ({ props, report }) => {
    const scanning = props.imageScanningConfiguration;
    if (isUnknown(scanning)) {
      return;
    }
    const scanOnPush = isRecord(scanning) ? boolish(scanning.scanOnPush, false) : false;
    if (scanOnPush === false) {
      report(
        "imageScanningConfiguration.scanOnPush is not true: pushed images are not scanned for known vulnerabilities. Set imageScanningConfiguration: { scanOnPush: true }.",
      );
    }
  },
});

export const logGroupRetention: ResourceValidationPolicy = defineResourcePolicy<LogGroupProps>({
  name: "aws-cloudwatch-loggroup-retention",
  description: "CloudWatch log groups must set a retention period (retentionInDays > 0).",
  enforcementLevel: "mandatory",
  severity: "low",
  remediationSteps:
    "Set retentionInDays to one of the values CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...). " +
    "Without it (or with 0) logs are kept forever and billed forever. Create Lambda log groups explicitly (/aws/lambda/NAME) so they get retention.",
  tags: ["logs", "cost"],
  types: [T.logGroup],
  check: ({ props, report }) => {
    const days = props.retentionInDays;
    if (isUnknown(days)) {
      return;
    }
    if (typeof days !== "number" || !(days > 0)) {
      report(
        `retentionInDays is ${days === undefined || days === null ? "not set" : String(days)}: the log group never expires its events. ` +
          "Set retentionInDays (e.g. 30).",
      );
    }
  },
});

export const servicePolicies: ResourceValidationPolicy[] = [
  sqsEncrypted,
  ecrImmutableTags,
  ecrScanOnPush,
  logGroupRetention,
];
