// IAM identity documents that let the holder become someone more powerful: hand any role to a service, rewrite
// policies, or mint credentials for any user.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type ActionInfo, knownAction, preloadActions } from "../lib/iam/aws-data";
import { type BroadGrant, type GrantIndex, grantIndex, type WatchedActions, withActionData } from "../lib/iam/grants";
import { coversEveryResourceOf } from "../lib/iam/resources";
import {
  allDocuments,
  type DocumentSource,
  IDENTITY_DOCUMENT_TYPES,
  identityDocuments,
  knownStatements,
  quoteList,
} from "../lib/iam/sources";
import { defineResourcePolicy } from "../lib/kit";
import { IAM_TAGS } from "./iam-actions";

/**
 * Privilege-escalation methods: Checkov CKV_AWS_286 (via cloudsplaining's list, after Rhino Security Labs'
 * "AWS IAM Privilege Escalation – Methods and Mitigation"). Each is a set of actions that, granted together on every
 * resource of their type, lets the holder raise its own permissions.
 */
export const PRIVILEGE_ESCALATION_METHODS: readonly { name: string; actions: readonly string[] }[] = [
  { name: "CreateNewPolicyVersion", actions: ["iam:CreatePolicyVersion"] },
  { name: "SetExistingDefaultPolicyVersion", actions: ["iam:SetDefaultPolicyVersion"] },
  { name: "AttachUserPolicy", actions: ["iam:AttachUserPolicy"] },
  { name: "AttachGroupPolicy", actions: ["iam:AttachGroupPolicy"] },
  { name: "AttachRolePolicy", actions: ["iam:AttachRolePolicy"] },
  { name: "PutUserPolicy", actions: ["iam:PutUserPolicy"] },
  { name: "PutGroupPolicy", actions: ["iam:PutGroupPolicy"] },
  { name: "PutRolePolicy", actions: ["iam:PutRolePolicy"] },
  { name: "AddUserToGroup", actions: ["iam:AddUserToGroup"] },
  { name: "UpdateRolePolicyToAssumeIt", actions: ["iam:UpdateAssumeRolePolicy"] },
  { name: "EditExistingLambdaFunctionWithRole", actions: ["lambda:UpdateFunctionCode"] },
  { name: "UpdateExistingGlueDevEndpoint", actions: ["glue:UpdateDevEndpoint"] },
  {
    name: "PassExistingRoleToNewLambdaThenInvoke",
    actions: ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
  },
  {
    name: "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
    actions: ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
  },
  { name: "PassExistingRoleToNewGlueDevEndpoint", actions: ["iam:PassRole", "glue:CreateDevEndpoint"] },
  { name: "PassExistingRoleToCloudFormation", actions: ["iam:PassRole", "cloudformation:CreateStack"] },
  { name: "PassExistingRoleToNewDataPipeline", actions: ["iam:PassRole", "datapipeline:CreatePipeline"] },
  { name: "PassExistingRoleToNewEc2Instance", actions: ["iam:PassRole", "ec2:RunInstances"] },
  { name: "PassExistingRoleToNewCodeBuildProject", actions: ["iam:PassRole", "codebuild:CreateProject"] },
];

/**
 * Credential exposure: Checkov CKV_AWS_287 (cloudsplaining's credentials-exposure actions, the IAM-user subset).
 * Granted on every user, these mint long-lived credentials for any user, administrators included.
 */
export const CREDENTIAL_EXPOSURE_ACTIONS: readonly string[] = [
  "iam:CreateAccessKey",
  "iam:UpdateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:CreateServiceSpecificCredential",
  "iam:ResetServiceSpecificCredential",
];

/** The actions these rules watch: loaded once, one grant index per resource shared by the three rules. */
const WATCHED_ACTIONS = [
  ...new Set([...PRIVILEGE_ESCALATION_METHODS.flatMap((m) => m.actions), ...CREDENTIAL_EXPOSURE_ACTIONS]),
];

let watched: WatchedActions | undefined;

/** The SAR entries of the watched actions (a test checks every name exists in the data). */
function loadWatched(): WatchedActions | Promise<WatchedActions> {
  const build = () => {
    watched = new Map(
      WATCHED_ACTIONS.map(knownAction)
        .filter((a) => a !== undefined)
        .map((a) => [a.name.toLowerCase(), a]),
    );
    return watched;
  };
  const pending = preloadActions(WATCHED_ACTIONS);
  return pending ? pending.then(build) : build();
}

/**
 * Runs `check` with the grant index of the resource's identity documents, once the watched actions' data and the
 * documents' action data are in memory: synchronously when they are (every resource after the first few).
 */
function withGrants(
  type: string,
  props: Record<string, unknown>,
  check: (index: GrantIndex, infos: WatchedActions, sources: readonly DocumentSource[]) => void,
): void | Promise<void> {
  const sources = identityDocuments(type, props);
  const run = (infos: WatchedActions) =>
    withActionData(sources, () => check(grantIndex(sources, infos), infos, sources));
  if (watched) return run(watched);
  return Promise.resolve(loadWatched()).then(run);
}

function grantText(grant: BroadGrant): string {
  return `${grant.source.where}: ${grant.statement.label} ("${grant.via}" on ${quoteList(grant.statement.resource?.values ?? [])})`;
}

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-passrole-star — Checkov CKV_AWS_286 (PassRole part); SAR: iam:PassRole's resource type is role.

export const noPassRoleOnStar: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-passrole-star",
  description:
    'IAM policy documents must not allow iam:PassRole on "*" or on every role of an account (role/*, role*, role/?*, role/**).',
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Allow iam:PassRole only on the ARNs of the roles that are passed (e.g. the runner instance role, the ECS task and execution roles) " +
    'and add a Condition {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}} naming the service that receives the role. ' +
    "IAM's * also matches /, so role* and role/** name every role.",
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, report }) =>
    withGrants(type, props, (index, infos) => {
      const passRole = infos.get("iam:passrole") as ActionInfo;
      for (const { statement, source, via } of index.get("iam:passrole") ?? []) {
        const broad = (statement.resource?.values ?? []).find((r) => coversEveryResourceOf(r, passRole.arnFormats));
        const how = via.trim().toLowerCase() === "iam:passrole" ? "iam:PassRole" : `iam:PassRole (via "${via}")`;
        report(
          `${source.where}: ${statement.label} allows ${how} on Resource "${broad ?? "*"}": whoever holds this policy can hand ANY role, including ` +
            `administrator roles, to EC2, Lambda, ECS or CodeBuild and act with its permissions. Restrict Resource to the ARNs of the roles ` +
            `that are passed (arn:aws:iam::ACCOUNT:role/NAME) and add {"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}}.`,
        );
      }
    }),
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-privilege-escalation — Checkov CKV_AWS_286.

export const noPrivilegeEscalation: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-privilege-escalation",
  description:
    "IAM policy documents must not allow privilege escalation: iam:AttachRolePolicy, PutRolePolicy, CreatePolicyVersion, SetDefaultPolicyVersion, " +
    "UpdateAssumeRolePolicy and friends, or iam:PassRole with a create action, on every resource of their type.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Scope IAM write actions to the specific roles/users/groups/policies they manage (ARNs, ideally under a path such as role/cirunners/*), " +
    "and never combine iam:PassRole on every role with an action that creates compute (lambda:CreateFunction, ec2:RunInstances, ...). " +
    "Use a permissions boundary (Condition iam:PermissionsBoundary) where a principal must create roles.",
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, report }) =>
    withGrants(type, props, (index) => {
      for (const method of PRIVILEGE_ESCALATION_METHODS) {
        const found = method.actions.map((name) => index.get(name.toLowerCase())?.[0]);
        if (found.some((g) => g === undefined)) continue;
        const where = [...new Set((found as BroadGrant[]).map(grantText))].join("; ");
        report(
          `Allows privilege escalation (${method.name}: ${method.actions.join(" + ")} on every resource of their type) through ${where}. ` +
            "The holder can grant itself any permission. Scope these actions to the specific ARNs they manage.",
        );
      }
    }),
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-credential-exposure — Checkov CKV_AWS_287.

export const noCredentialExposure: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-credential-exposure",
  description:
    "IAM policy documents must not allow creating or resetting credentials (iam:CreateAccessKey, CreateLoginProfile, UpdateLoginProfile, ...) for every user.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Scope credential actions to the user that manages its own credentials (arn:aws:iam::ACCOUNT:user/${aws:username}) or to named users; " +
    "CI should use roles (OIDC, instance profiles), not access keys.",
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, report }) =>
    withGrants(type, props, (index, infos) => {
      for (const name of CREDENTIAL_EXPOSURE_ACTIONS) {
        const info = infos.get(name.toLowerCase());
        const grant = index.get(name.toLowerCase())?.[0];
        if (!info || !grant) continue;
        report(
          `Allows ${info.name} on every user through ${grantText(grant)}: the holder can mint credentials for any IAM user, administrators included. ` +
            "Scope it to arn:aws:iam::ACCOUNT:user/${aws:username} (self-service) or to named users.",
        );
      }
    }),
});

// ---------------------------------------------------------------------------------------------------------
// aws-iam-policy-no-allow-not-elements — IAM User Guide, "IAM JSON policy elements: NotAction / NotResource": with Allow
// they grant everything not listed, including actions and resources AWS adds later.

export const noAllowWithNotElements: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-iam-policy-no-allow-not-elements",
  description: 'IAM policy documents must not combine "Effect": "Allow" with NotAction, NotResource or NotPrincipal.',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Rewrite the statement with Action/Resource/Principal listing what is allowed. NotAction/NotResource are fine in Deny statements " +
    '(e.g. a Deny guard), but "Allow everything except ..." silently grants every new action and resource AWS adds.',
  tags: IAM_TAGS,
  types: IDENTITY_DOCUMENT_TYPES,
  check: ({ type, props, report }) => {
    const sources = allDocuments(type, props);
    for (const { source, statement } of knownStatements(sources)) {
      const used: string[] = [];
      if (statement.notAction) used.push(`NotAction ${quoteList(statement.notAction.values) || "<unknown>"}`);
      if (statement.notResource) used.push(`NotResource ${quoteList(statement.notResource.values) || "<unknown>"}`);
      if (statement.notPrincipal) used.push("NotPrincipal");
      if (used.length > 0) {
        report(
          `${source.where}: ${statement.label} is an Allow statement with ${used.join(" and ")}: it allows everything except what is listed, ` +
            "including actions and resources added later. List the allowed actions in Action and the resources in Resource instead " +
            "(keep NotAction/NotResource for Deny statements).",
        );
      }
    }
  },
});
