// IAM policies: least-privilege documents, no broad AWS managed policies, safe trust policies.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { actionMatches, isAllActionsWildcard, serviceWideWildcard, splitAction } from "../lib/actions";
import { hasWildcard, wildcardMatch } from "../lib/glob";
import {
  isAllow,
  type NormalizedDocument,
  type NormalizedStatement,
  parsePolicyDocument,
  type ValueList,
} from "../lib/iam-document";
import { defineResourcePolicy } from "../lib/kit";
import { actionAllowedOnAnyResource, resourceArnHint } from "../lib/resource-level";
import { analyzeTrustPolicy, GITHUB_OIDC_HOST, type TrustFindingKind } from "../lib/trust";
import { type IamPolicyProps, type IamRoleProps, type PolicyAttachmentProps, T } from "../lib/types";
import { isRecord, isUnknown } from "../lib/unknown";

// ---------------------------------------------------------------------------------------------------------
// Where the documents are

/** Resource types that carry identity-based policy documents. */
export const IDENTITY_DOCUMENT_TYPES = [
  T.iamPolicy,
  T.iamRolePolicy,
  T.iamUserPolicy,
  T.iamGroupPolicy,
  T.iamRole,
] as const;
/** Identity documents plus trust policies. */
export const ALL_DOCUMENT_TYPES = IDENTITY_DOCUMENT_TYPES;

export interface DocumentSource {
  /** `policy`, `inlinePolicies[0] ("ssm-read")`, `assumeRolePolicy`. */
  where: string;
  doc: NormalizedDocument;
  trust: boolean;
}

/** Identity-based documents of a resource: `policy`, or a Role's `inlinePolicies[].policy`. */
export function identityDocuments(type: string, props: Record<string, unknown>): DocumentSource[] {
  if (type === T.iamRole) {
    const inline = (props as IamRoleProps).inlinePolicies;
    if (!Array.isArray(inline)) {
      return [];
    }
    const out: DocumentSource[] = [];
    inline.forEach((entry, i) => {
      if (!isRecord(entry) || entry.policy === undefined || entry.policy === null || entry.policy === "") {
        return; // unknown entry, or an empty inline policy (the provider's way to remove inline policies)
      }
      const name = typeof entry.name === "string" && !isUnknown(entry.name) ? ` ("${entry.name}")` : "";
      out.push({ where: `inlinePolicies[${i}]${name}`, doc: parsePolicyDocument(entry.policy), trust: false });
    });
    return out;
  }
  const policy = (props as IamPolicyProps).policy;
  return policy === undefined || policy === null
    ? []
    : [{ where: "policy", doc: parsePolicyDocument(policy), trust: false }];
}

/** The trust policy of a Role. */
export function trustDocuments(type: string, props: Record<string, unknown>): DocumentSource[] {
  if (type !== T.iamRole) {
    return [];
  }
  const trust = (props as IamRoleProps).assumeRolePolicy;
  return trust === undefined || trust === null
    ? []
    : [{ where: "assumeRolePolicy", doc: parsePolicyDocument(trust), trust: true }];
}

/** Known statements of known documents (unknown ones are skipped: nothing about them is certain). */
function* knownAllowStatements(
  sources: DocumentSource[],
): Generator<{ source: DocumentSource; statement: NormalizedStatement }> {
  for (const source of sources) {
    if (source.doc.unknown || source.doc.statementsUnknown || source.doc.invalid) {
      continue;
    }
    for (const statement of source.doc.statements) {
      if (isAllow(statement)) {
        yield { source, statement };
      }
    }
  }
}

function quoteList(values: string[]): string {
  return values.map((v) => `"${v}"`).join(", ");
}

function resourcesText(statement: NormalizedStatement): string {
  if (statement.resource) {
    const known = quoteList(statement.resource.values);
    return `Resource ${known || "<unknown>"}${statement.resource.unknown && known ? " (+ values unknown during preview)" : ""}`;
  }
  if (statement.notResource) {
    return `NotResource ${quoteList(statement.notResource.values)}`;
  }
  return "no Resource";
}

/** `*`, `arn:*`, or an ARN whose service part is a wildcard (`arn:aws:*:*:*:*`): every resource. */
export function isAnyResource(resource: string): boolean {
  const r = resource.trim();
  if (r === "*") {
    return true;
  }
  const parts = r.split(":");
  if (parts[0].toLowerCase() !== "arn") {
    return false;
  }
  if (parts.length === 2) {
    return /^[*?]*\*[*?]*$/.test(parts[1]);
  }
  return parts.length >= 3 && /^[*?]*\*[*?]*$/.test(parts[2]);
}

function anyResourceIn(list: ValueList | undefined): string | undefined {
  return list?.values.find(isAnyResource);
}

const IAM_TAGS = ["iam", "least-privilege"];

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-wildcard-actions

interface WildcardActionConfig {
  allowedWildcardActions?: string[];
}

/** Why an action is too broad, or undefined. */
export function wildcardActionProblem(action: string): string | undefined {
  if (isAllActionsWildcard(action)) {
    return `"${action}" (every action of every AWS service)`;
  }
  const service = serviceWideWildcard(action);
  if (service) {
    return `"${action}" (every ${service} action)`;
  }
  const parts = splitAction(action.trim());
  if (parts && hasWildcard(parts.service)) {
    return `"${action}" (a wildcard service prefix matches actions of many services)`;
  }
  return undefined;
}

export const noWildcardActions: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  WildcardActionConfig
>({
  name: "aws-iam-policy-no-wildcard-actions",
  description:
    'IAM policy documents (policies, inline policies, trust policies) must not allow "*" or "service:*" actions.',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'List the exact actions the principal calls (e.g. "sqs:SendMessage", "ssm:GetParameter"). Partial wildcards such as "ec2:Describe*" are ' +
    'fine; "*", "s3:*" and "*:Get*" are not. Documents must be valid JSON so they can be checked.',
  config: {
    allowedWildcardActions: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: 'Service-wide wildcard actions that are accepted anyway (exact, case-insensitive), e.g. ["logs:*"].',
    },
  },
  tags: IAM_TAGS,
  types: ALL_DOCUMENT_TYPES,
  check: ({ type, props, config, report }) => {
    const allowed = new Set((config.allowedWildcardActions ?? []).map((a) => a.toLowerCase()));
    const sources = [...identityDocuments(type, props), ...trustDocuments(type, props)];
    for (const source of sources) {
      if (source.doc.invalid) {
        report(
          `${source.where}: ${source.doc.invalid}, so it cannot be checked. Provide a valid JSON policy document with a Statement.`,
        );
      }
    }
    for (const { source, statement } of knownAllowStatements(sources)) {
      const problems = (statement.action?.values ?? [])
        .filter((a) => !allowed.has(a.trim().toLowerCase()))
        .map(wildcardActionProblem)
        .filter((p): p is string => p !== undefined);
      if (problems.length > 0) {
        report(
          `${source.where}: ${statement.label} allows ${problems.join(", ")} on ${resourcesText(statement)}. ` +
            `Replace it with the specific actions needed, e.g. "s3:GetObject" instead of "s3:*".`,
        );
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-star-resource

interface StarResourceConfig {
  extraAllowedActions?: string[];
}

export const noStarResource: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  StarResourceConfig
>({
  name: "aws-iam-policy-no-star-resource",
  description:
    'IAM policy documents must not allow "Resource": "*" for actions that support resource-level permissions.',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Scope each action to the ARNs it acts on. Only actions whose "Resource types" column is empty in the AWS Service Authorization ' +
    "Reference (the pack's maintained list: ec2:Describe*, ecr:GetAuthorizationToken, ssm:DescribeParameters, logs:DescribeLogGroups, " +
    'sts:GetCallerIdentity, cloudwatch:PutMetricData, xray:PutTraceSegments, ...) may use "*"; put them in their own statement.',
  config: {
    extraAllowedActions: {
      type: "array",
      items: { type: "string" },
      default: [],
      description:
        'Additional actions or patterns allowed on "*" (for actions AWS lists without resource types that the pack does not know yet).',
    },
  },
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, config, report }) => {
    const extra = config.extraAllowedActions ?? [];
    for (const { source, statement } of knownAllowStatements(identityDocuments(type, props))) {
      const star = anyResourceIn(statement.resource);
      if (star === undefined) {
        continue;
      }
      const offending = (statement.action?.values ?? []).filter((a) => !actionAllowedOnAnyResource(a, extra));
      if (offending.length === 0) {
        continue;
      }
      const hints = offending.map((a) => `${a} → ${resourceArnHint(a)}`).join("; ");
      report(
        `${source.where}: ${statement.label} allows ${quoteList(offending)} on "Resource": "${star}". ` +
          `${offending.length === 1 ? "This action supports" : "These actions support"} resource-level permissions, so "*" grants them on every resource in the account. ` +
          `Scope them to ARNs: ${hints}. Keep "*" only for actions without resource-level permissions (e.g. ec2:Describe*, ecr:GetAuthorizationToken) in a separate statement.`,
      );
    }
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-passrole-star

/** `*`, or every role of an account (`arn:aws:iam::123456789012:role/*`, `arn:aws:iam::*:role/*`). */
export function isAnyRole(resource: string): boolean {
  return (
    isAnyResource(resource) ||
    /^arn:[^:]+:iam::[^:]*:(role\/)?\*$/i.test(resource.trim()) ||
    /^arn:[^:]+:iam::[^:]*:\*/i.test(resource.trim())
  );
}

export const noPassRoleOnStar: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-passrole-star",
  description: 'IAM policy documents must not allow iam:PassRole on "*" (or on every role of an account).',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Allow iam:PassRole only on the ARNs of the roles that are passed (e.g. the runner instance role, the ECS task and execution roles) " +
    'and add a Condition {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}} naming the service that receives the role.',
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, report }) => {
    for (const { source, statement } of knownAllowStatements(identityDocuments(type, props))) {
      const via = (statement.action?.values ?? []).filter((a) => actionMatches(a, "iam:PassRole"));
      const broad = statement.resource?.values.find(isAnyRole);
      if (via.length === 0 || broad === undefined) {
        continue;
      }
      const how = via.some((a) => a.trim().toLowerCase() === "iam:passrole")
        ? "iam:PassRole"
        : `iam:PassRole (via ${quoteList(via)})`;
      report(
        `${source.where}: ${statement.label} allows ${how} on Resource "${broad}": whoever holds this policy can hand ANY role, including ` +
          `administrator roles, to EC2, Lambda, ECS or CodeBuild and act with its permissions. Restrict Resource to the ARNs of the roles ` +
          `that are passed (arn:aws:iam::ACCOUNT:role/NAME) and add {"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}}.`,
      );
    }
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-allow-not-elements

export const noAllowWithNotElements: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-allow-not-elements",
  description: 'IAM policy documents must not combine "Effect": "Allow" with NotAction, NotResource or NotPrincipal.',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Rewrite the statement with Action/Resource/Principal listing what is allowed. NotAction/NotResource are fine in Deny statements " +
    '(e.g. a Deny guard), but "Allow everything except ..." silently grants every new action and resource AWS adds.',
  tags: IAM_TAGS,
  types: ALL_DOCUMENT_TYPES,
  check: ({ type, props, report }) => {
    const sources = [...identityDocuments(type, props), ...trustDocuments(type, props)];
    for (const { source, statement } of knownAllowStatements(sources)) {
      const used: string[] = [];
      if (statement.notAction) used.push(`NotAction ${quoteList(statement.notAction.values) || "<unknown>"}`);
      if (statement.notResource) used.push(`NotResource ${quoteList(statement.notResource.values) || "<unknown>"}`);
      if (statement.notPrincipal) used.push("NotPrincipal");
      if (used.length > 0) {
        report(
          `${source.where}: ${statement.label} is an Allow statement with ${used.join(" and ")}: it allows everything except what is listed, ` +
            `including actions and resources added later. List the allowed actions in Action and the resources in Resource instead ` +
            `(keep NotAction/NotResource for Deny statements).`,
        );
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-attachment-no-broad-managed-policies

export const DEFAULT_DENIED_MANAGED_POLICY_NAMES = [
  "AdministratorAccess",
  "AdministratorAccess-*",
  "PowerUserAccess",
  "*FullAccess",
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
    "Roles, users and groups must not get broad AWS managed policies (AdministratorAccess, PowerUserAccess, *FullAccess).",
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

// ---------------------------------------------------------------------------------------------------------
// Trust policies

function trustFindings(
  type: string,
  props: Record<string, unknown>,
  kinds: ReadonlySet<TrustFindingKind>,
  options: Parameters<typeof analyzeTrustPolicy>[1],
) {
  const out: string[] = [];
  for (const source of trustDocuments(type, props)) {
    for (const finding of analyzeTrustPolicy(source.doc, options)) {
      if (kinds.has(finding.kind)) {
        out.push(`${source.where}: ${finding.message}`);
      }
    }
  }
  return out;
}

export const noPublicTrust: ResourceValidationPolicy = defineResourcePolicy<IamRoleProps>({
  name: "aws-iam-role-no-public-trust",
  description: 'Role trust policies must not trust everyone ("Principal": "*" or {"AWS": "*"}).',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'Name the trusted principals: an account or role ARN in {"AWS": ...}, a service in {"Service": "x.amazonaws.com"}, or an OIDC ' +
    'provider in {"Federated": ...} with conditions.',
  tags: ["iam", "trust-policy"],
  types: [T.iamRole],
  check: ({ type, props, report }) => {
    for (const message of trustFindings(
      type,
      props as Record<string, unknown>,
      new Set<TrustFindingKind>(["public-principal"]),
      {},
    )) {
      report(message);
    }
  },
});

interface GitHubOidcConfig {
  providerHosts?: string[];
  allowedOwners?: string[];
  allowedSubjects?: string[];
}

export const githubOidcTrustPinned: ResourceValidationPolicy = defineResourcePolicy<IamRoleProps, GitHubOidcConfig>({
  name: "aws-iam-role-github-oidc-trust-pinned",
  description:
    "Roles trusted by GitHub Actions OIDC must pin token.actions.githubusercontent.com:aud to sts.amazonaws.com and :sub to concrete repo:OWNER/REPO values.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'Add "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}, "StringLike": ' +
    '{"token.actions.githubusercontent.com:sub": "repo:OWNER/REPO:ref:refs/heads/main"}}. OWNER and REPO must be literal; a wildcard ' +
    "is only acceptable after them (repo:acme/app:ref:refs/heads/*). Without a sub condition, or with repo:* / repo:acme/*, other repositories can assume the role.",
  config: {
    providerHosts: {
      type: "array",
      items: { type: "string" },
      default: [GITHUB_OIDC_HOST],
      description: "OIDC provider hosts that identify GitHub Actions (add GHES hosts here).",
    },
    allowedOwners: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "If set, the only GitHub owners (organisations or users) a sub condition may name.",
    },
    allowedSubjects: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "sub values accepted as they are (wildcards allowed), for customised OIDC subject claim templates.",
    },
  },
  tags: ["iam", "trust-policy", "github"],
  types: [T.iamRole],
  check: ({ type, props, config, report }) => {
    const kinds = new Set<TrustFindingKind>([
      "github-oidc-no-audience",
      "github-oidc-bad-audience",
      "github-oidc-no-subject",
      "github-oidc-bad-subject",
    ]);
    for (const message of trustFindings(type, props as Record<string, unknown>, kinds, config)) {
      report(message);
    }
  },
});

export const iamPolicies: ResourceValidationPolicy[] = [
  noWildcardActions,
  noStarResource,
  noPassRoleOnStar,
  noAllowWithNotElements,
  noBroadManagedPolicies,
  noPublicTrust,
  githubOidcTrustPinned,
];
