// The pack's IAM policies, by concern: actions and resources (iam-actions.ts), escalation and credentials
// (iam-escalation.ts), AWS managed policies (iam-managed.ts), trust policies (iam-trust.ts).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { knownActions, noStarResource, noWildcardActions } from "./iam-actions";
import {
  noAllowWithNotElements,
  noCredentialExposure,
  noPassRoleOnStar,
  noPrivilegeEscalation,
} from "./iam-escalation";
import { noBroadManagedPolicies } from "./iam-managed";
import { githubOidcTrustPinned, noPublicTrust } from "./iam-trust";

export { isAnyResource } from "../lib/iam/resources";
export { awsManagedPolicyName, isBroadManagedPolicy } from "./iam-managed";

export const iamPolicies: ResourceValidationPolicy[] = [
  noWildcardActions,
  noStarResource,
  knownActions,
  noPassRoleOnStar,
  noPrivilegeEscalation,
  noCredentialExposure,
  noAllowWithNotElements,
  noBroadManagedPolicies,
  noPublicTrust,
  githubOidcTrustPinned,
];
