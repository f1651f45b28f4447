// The CrossGuard policy pack: `pulumi preview --policy-pack ./policy` or `pulumi policy publish` (run from policy/).
// Constructing the PolicyPack starts the analyzer's gRPC server, so nothing else should import this file;
// use ./policies (the list) or ./evaluate (the offline evaluator) instead.
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME } from "./pack";
import { policies } from "./policies";

new PolicyPack(PACK_NAME, {
  policies,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  description:
    "AWS baseline for the self-hosted GitHub Actions runner platform: least-privilege IAM, safe trust policies, encrypted gp3 volumes, ephemeral runners, and failure handling.",
  provider: "aws",
  tags: ["aws", "iam", "ci"],
});
