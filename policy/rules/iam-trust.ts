// IAM role trust policies: nobody public, GitHub Actions OIDC pinned to repositories. Checkov CKV_AWS_60/61 (no
// "*" principal in assume-role policies), CKV_AWS_358 (GitHub OIDC sub pinned); GitHub docs "Configuring OpenID
// Connect in Amazon Web Services".
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { trustDocuments } from "../lib/iam/sources";
import { defineResourcePolicy } from "../lib/kit";
import { GITHUB_OIDC_HOST } from "../lib/github-oidc";
import { analyzeTrustPolicy, type TrustFindingKind } from "../lib/trust";
import { type IamRoleProps, T } from "../lib/types";

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
