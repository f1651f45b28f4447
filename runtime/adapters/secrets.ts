/**
 * Secrets Manager reads of the functions: the webhook secret, kept in the container for `maxAge` seconds so a warm
 * container makes no call per request.
 *
 * The cache is these few lines rather than Powertools Parameters' `SecretsProvider`: the webhook's cold path is
 * bounded (issue 17, ≤ 102,000 bytes gzip), and the provider with its base class and Powertools' commons was
 * 1,720 bytes gzip of it for a lookup and an expiry time (docs/webhook.md, "Bundle and cold start").
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * Reads a secret's string value (ARN or name), cached in the container for `maxAgeSeconds`. A secret without a
 * string value (empty, or stored as SecretBinary) is an error naming the secret, never an empty key. A failed read
 * is not cached: the next request reads again.
 */
export function secretStringReader(
  client: SecretsManagerClient,
  now: () => number = Date.now,
): (secretId: string, maxAgeSeconds: number) => Promise<string> {
  const cached = new Map<string, { value: string; expiresAt: number }>();
  return async (secretId, maxAgeSeconds) => {
    const hit = cached.get(secretId);
    if (hit && now() < hit.expiresAt) return hit.value;
    const { SecretString: value } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof value !== "string" || value === "") throw new Error(`secret ${secretId} has no string value`);
    cached.set(secretId, { value, expiresAt: now() + maxAgeSeconds * 1000 });
    return value;
  };
}
