// Resources reachable by everyone: public principals in resource policies, subnets that hand out public IPs,
// EKS endpoints open to the internet; and KMS keys that never rotate.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isAllow, parsePolicyDocument } from "../lib/iam-document";
import { defineResourcePolicy } from "../lib/kit";
import { boolish, isRecord, isUnknown } from "../lib/unknown";

const T = {
  ecrRepositoryPolicy: "aws:ecr/repositoryPolicy:RepositoryPolicy",
  lambdaPermission: "aws:lambda/permission:Permission",
  kmsKey: "aws:kms/key:Key",
  kmsKeyPolicy: "aws:kms/keyPolicy:KeyPolicy",
  subnet: "aws:ec2/subnet:Subnet",
  eksCluster: "aws:eks/cluster:Cluster",
} as const;

/** Labels of Allow statements granting to everyone (`"*"` or `{"AWS": "*"}`) with no Condition to narrow it. */
export function publicStatements(policy: unknown): string[] {
  const doc = parsePolicyDocument(policy);
  if (doc.unknown || doc.invalid || doc.statementsUnknown) return [];
  return doc.statements
    .filter((s) => isAllow(s) && s.conditions.length === 0 && !s.conditionUnknown)
    .filter((s) => s.principal?.star || s.principal?.entries.get("AWS")?.values.some((v) => v.trim() === "*"))
    .map((s) => s.label);
}

// Checkov CKV_AWS_32 (ECR), CKV_AWS_301 (Lambda permission), CKV_AWS_33 (KMS key policy); awsguard
// ecr-repository-policy-no-public-access / lambda-function-not-public.
export const noPublicResourcePolicies: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-resource-policy-no-public-principal",
  description:
    'ECR repository policies, Lambda permissions and KMS key policies must not grant to everyone ("Principal": "*").',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Name the principals (account root or role ARNs, or a service with aws:SourceArn/aws:SourceAccount). For Lambda permissions set " +
    "principal to the calling service or account and sourceArn/sourceAccount; for KMS keys keep the account root statement and name roles.",
  tags: ["public-access"],
  types: [T.ecrRepositoryPolicy, T.lambdaPermission, T.kmsKey, T.kmsKeyPolicy],
  check: ({ type, props, report }) => {
    if (type === T.lambdaPermission) {
      const scoped = ["sourceArn", "sourceAccount", "principalOrgId"].some(
        (k) => props[k] !== undefined && props[k] !== null,
      );
      if (props.principal === "*" && !scoped) {
        report(
          'principal is "*" with no sourceArn, sourceAccount or principalOrgId: anyone can invoke the function. Name the invoking service or account.',
        );
      }
      return;
    }
    for (const label of publicStatements(props.policy)) {
      report(
        `policy ${label} allows "Principal": "*" without a Condition: anyone can use this ${type === T.ecrRepositoryPolicy ? "repository" : "key"}. Name the principals.`,
      );
    }
  },
});

// Checkov CKV_AWS_7; awsguard kms-key-rotation-enabled. Only symmetric encryption keys can rotate automatically.
export const kmsKeyRotation: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-kms-key-rotation-enabled",
  description: "Symmetric KMS keys must enable automatic key rotation (enableKeyRotation: true).",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Set enableKeyRotation: true (optionally rotationPeriodInDays). Asymmetric and HMAC keys cannot rotate and are not checked.",
  tags: ["kms", "encryption"],
  types: [T.kmsKey],
  check: ({ props, report }) => {
    const spec = props.customerMasterKeySpec ?? props.keySpec;
    const usage = props.keyUsage;
    if ((spec !== undefined && spec !== "SYMMETRIC_DEFAULT") || (usage !== undefined && usage !== "ENCRYPT_DECRYPT"))
      return;
    if (boolish(props.enableKeyRotation, false) === false) {
      report("enableKeyRotation is not true: the key material never changes. Set enableKeyRotation: true.");
    }
  },
});

// Checkov CKV_AWS_130. Advisory: the public subnets of a VPC with NAT gateways legitimately map public IPs; exempt
// them by name or tag (e.g. exemptTags {"tier": "public"}).
export const subnetNoPublicIp: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-ec2-subnet-no-public-ip-on-launch",
  description: "Subnets should not assign public IPs to instances on launch (mapPublicIpOnLaunch).",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Set mapPublicIpOnLaunch: false and reach the internet through a NAT gateway. Public subnets that only hold NAT gateways and load " +
    'balancers are legitimate: exempt them in the policy config (exemptTags {"tier": "public"} or exemptNamePatterns).',
  tags: ["network"],
  types: [T.subnet],
  check: ({ props, report }) => {
    if (boolish(props.mapPublicIpOnLaunch, false) === true) {
      report(
        "mapPublicIpOnLaunch is true: every instance launched here gets a public IP. Set it to false (use NAT), or exempt this public subnet.",
      );
    }
  },
});

// Checkov CKV_AWS_38 (public endpoint not open to 0.0.0.0/0), CKV_AWS_58 (secrets encryption); awsguard
// eks-cluster-secrets-encrypted.
export const eksClusterHardened: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-eks-cluster-endpoint-and-secrets",
  description:
    "EKS clusters must not expose a public endpoint to 0.0.0.0/0 and must encrypt Kubernetes secrets with KMS.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set vpcConfig.endpointPublicAccess: false (with endpointPrivateAccess: true), or publicAccessCidrs to your office/VPN ranges; set " +
    'encryptionConfig: { resources: ["secrets"], provider: { keyArn } }.',
  tags: ["eks"],
  types: [T.eksCluster],
  check: ({ props, report }) => {
    const vpc = props.vpcConfig;
    if (isRecord(vpc) && boolish(vpc.endpointPublicAccess, true) === true && !isUnknown(vpc.publicAccessCidrs)) {
      const cidrs = Array.isArray(vpc.publicAccessCidrs) ? vpc.publicAccessCidrs : undefined;
      if (cidrs === undefined || cidrs.includes("0.0.0.0/0")) {
        report(
          `the public API endpoint is open to 0.0.0.0/0 (publicAccessCidrs ${cidrs ? JSON.stringify(cidrs) : "not set, AWS default 0.0.0.0/0"}). Restrict publicAccessCidrs or disable endpointPublicAccess.`,
        );
      }
    }
    const encryption = props.encryptionConfig;
    if (isUnknown(encryption)) return;
    const entries = Array.isArray(encryption) ? encryption : [encryption];
    const encryptsSecrets = entries.some(
      (e) => isRecord(e) && (isUnknown(e.resources) || (Array.isArray(e.resources) && e.resources.includes("secrets"))),
    );
    if (!encryptsSecrets) {
      report(
        'encryptionConfig does not cover "secrets": Kubernetes secrets are stored without envelope encryption. Set encryptionConfig: { resources: ["secrets"], provider: { keyArn } }.',
      );
    }
  },
});

export const exposurePolicies: ResourceValidationPolicy[] = [
  noPublicResourcePolicies,
  kmsKeyRotation,
  subnetNoPublicIp,
  eksClusterHardened,
];
