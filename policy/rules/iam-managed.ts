// IAM attachments: no broad AWS managed policies. Checkov CKV_AWS_274 (AdministratorAccess attached), awsguard
// iam-managed-policies-no-admin-access; admin-level policies not named *FullAccess (AWSCodeBuildAdminAccess,
// PowerUserAccess, ...) from AWS's managed-policy reference: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { wildcardMatch } from "../lib/glob";
import { defineResourcePolicy } from "../lib/kit";
import { type IamRoleProps, type PolicyAttachmentProps, T } from "../lib/types";
import { isUnknown } from "../lib/unknown";
import { IAM_TAGS } from "./iam-actions";

// ---------------------------------------------------------------------------------------------------------
// aws-iam-attachment-no-broad-managed-policies

/**
 * Admin-level AWS managed policies by name: full access to everything (AdministratorAccess*, PowerUserAccess), to a
 * whole service (*FullAccess, IAMFullAccess), or its administration (*AdminAccess such as AWSCodeBuildAdminAccess,
 * *Administrator*, the job-function administrator policies).
 */
export const DEFAULT_DENIED_MANAGED_POLICY_NAMES = [
  "AdministratorAccess",
  "AdministratorAccess-*",
  "PowerUserAccess",
  "*FullAccess",
  "*FullAccess_v2",
  "*AdminAccess",
  "*Administrator",
  "*AdministratorAccess",
  "job-function/SystemAdministrator",
  "job-function/NetworkAdministrator",
  "job-function/DatabaseAdministrator",
];

export const ATTACHMENT_TYPES = [
  T.iamRolePolicyAttachment,
  T.iamUserPolicyAttachment,
  T.iamGroupPolicyAttachment,
  T.iamPolicyAttachment,
  T.iamRolePolicyAttachmentsExclusive,
  T.iamUserPolicyAttachmentsExclusive,
  T.iamGroupPolicyAttachmentsExclusive,
  T.iamRole,
] as const;

/** The path+name of an AWS managed policy (`arn:aws:iam::aws:policy/job-function/ViewOnlyAccess` → `job-function/ViewOnlyAccess`). */
export function awsManagedPolicyName(arn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/i.exec(arn.trim());
  return m ? m[1] : undefined;
}

/** True when the ARN is an AWS managed policy matching one of the denied name patterns (case-insensitive). */
export function isBroadManagedPolicy(
  arn: string,
  deniedNames: readonly string[] = DEFAULT_DENIED_MANAGED_POLICY_NAMES,
): boolean {
  const name = awsManagedPolicyName(arn);
  if (name === undefined) {
    return false;
  }
  const lastSegment = name.slice(name.lastIndexOf("/") + 1);
  return deniedNames.some(
    (pattern) =>
      wildcardMatch(pattern, name, true) || (!pattern.includes("/") && wildcardMatch(pattern, lastSegment, true)),
  );
}

interface ManagedPolicyConfig {
  deniedPolicyNames?: string[];
  allowedPolicyArns?: string[];
}

function attachedArns(type: string, props: PolicyAttachmentProps & IamRoleProps): { arns: string[]; target: string } {
  const arns: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string" && !isUnknown(value)) {
      arns.push(value);
    } else if (Array.isArray(value)) {
      value.forEach(collect);
    }
  };
  const name = (value: unknown): string =>
    typeof value === "string" && !isUnknown(value) ? `"${value}"` : "<unknown during preview>";
  let target: string;
  switch (type) {
    case T.iamRole:
      collect(props.managedPolicyArns);
      return { arns, target: "this role (managedPolicyArns)" };
    case T.iamRolePolicyAttachmentsExclusive:
    case T.iamUserPolicyAttachmentsExclusive:
    case T.iamGroupPolicyAttachmentsExclusive:
      collect(props.policyArns);
      target = `${type === T.iamRolePolicyAttachmentsExclusive ? "role" : type === T.iamUserPolicyAttachmentsExclusive ? "user" : "group"} ${name(props.roleName ?? props.userName ?? props.groupName)}`;
      return { arns, target };
    case T.iamPolicyAttachment:
      collect(props.policyArn);
      return { arns, target: "the roles/users/groups of this PolicyAttachment" };
    default:
      collect(props.policyArn);
      target =
        type === T.iamRolePolicyAttachment
          ? `role ${name(props.role)}`
          : type === T.iamUserPolicyAttachment
            ? `user ${name(props.user)}`
            : `group ${name(props.group)}`;
      return { arns, target };
  }
}

export const noBroadManagedPolicies: ResourceValidationPolicy = defineResourcePolicy<
  PolicyAttachmentProps & IamRoleProps,
  ManagedPolicyConfig
>({
  name: "aws-iam-attachment-no-broad-managed-policies",
  description:
    "Roles, users and groups must not get admin-level AWS managed policies (AdministratorAccess, PowerUserAccess, *FullAccess, *AdminAccess, ...).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Write a customer managed policy (aws.iam.Policy) or an inline aws.iam.RolePolicy that lists only the actions and resource ARNs the " +
    "workload uses, and attach that instead. Read-only managed policies (e.g. ReadOnlyAccess-style *ReadOnly* policies) are not affected.",
  config: {
    deniedPolicyNames: {
      type: "array",
      items: { type: "string" },
      default: DEFAULT_DENIED_MANAGED_POLICY_NAMES,
      description:
        "AWS managed policy names (path/name, * and ? wildcards, case-insensitive) that must not be attached.",
    },
    allowedPolicyArns: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Policy ARNs (wildcards allowed) accepted even though they match deniedPolicyNames.",
    },
  },
  tags: IAM_TAGS,
  types: ATTACHMENT_TYPES,
  check: ({ type, props, config, report }) => {
    const denied = config.deniedPolicyNames ?? DEFAULT_DENIED_MANAGED_POLICY_NAMES;
    const allowed = config.allowedPolicyArns ?? [];
    const { arns, target } = attachedArns(type, props);
    for (const arn of arns) {
      if (!isBroadManagedPolicy(arn, denied) || allowed.some((a) => wildcardMatch(a, arn, true))) {
        continue;
      }
      report(
        `Attaches the AWS managed policy ${arn} to ${target}. It grants far more than a CI/deployment workload needs ` +
          `(e.g. AmazonS3FullAccess allows every S3 action on every bucket in the account). Replace it with a customer managed or inline ` +
          `policy that lists only the needed actions on the needed ARNs.`,
      );
    }
  },
});
