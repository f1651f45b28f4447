# Loaded by the moto server of test/runtime/support/moto-iam.ts (PYTHONPATH), before moto serves a request.
#
# Why: with IAM enforcement on, moto 5.2.5 authorizes a request against the resource its response class names in
# `_determine_resource` (SQS, IAM and STS have one) and against Resource "*" otherwise. Secrets Manager has none,
# so a policy scoped to one secret's ARN (least privilege, what the stack grants) would be refused even for that
# secret, and a policy on another secret would look as good as the right one. This names the secret a request is
# for (its SecretId, resolved to the secret's full ARN when moto holds it), so the ARN in the policy is checked.
from moto.secretsmanager.responses import SecretsManagerResponse


def _determine_resource(self):
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    if secret_id in self.backend.secrets:
        return self.backend.secrets[secret_id].arn
    return secret_id if secret_id.startswith("arn:") else "*"


SecretsManagerResponse._determine_resource = _determine_resource
