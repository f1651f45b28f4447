/**
 * Secrets Manager reads of the functions: the webhook secret, through Powertools Parameters' SecretsProvider (which
 * keeps the value in the container for `maxAge` seconds, so a warm container makes no call per request).
 */
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/**
 * Reads a secret's string value (ARN or name), cached in the container for `maxAgeSeconds`. A secret without a
 * string value (empty, or stored as SecretBinary) is an error naming the secret, never an empty key.
 */
export function secretStringReader(
  client: SecretsManagerClient,
): (secretId: string, maxAgeSeconds: number) => Promise<string> {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  return async (secretId, maxAgeSeconds) => {
    const value = await provider.get(secretId, { maxAge: maxAgeSeconds });
    if (typeof value !== "string" || value === "") throw new Error(`secret ${secretId} has no string value`);
    return value;
  };
}
