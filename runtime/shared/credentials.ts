/**
 * The functions' AWS credentials: the SDK's default provider chain reduced to its first link, environment variables.
 * Every client a bundled function creates gets its credentials here, because the bundle maps
 * `@aws-sdk/credential-provider-node` (the chain each client's runtime config imports) to this module (esbuild
 * `alias`, `BUNDLE_OPTIONS` in program/shared/bundle.ts).
 *
 * Lambda hands a function its execution role's credentials in the reserved variables `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (AWS Lambda Developer Guide, "Defined runtime environment
 * variables"), and the chain's first link reads exactly those, so on Lambda the chain never goes further. Its other
 * links (SSO, shared ini files, credential processes, web identity, ECS and EC2 metadata) bring STS, SSO and
 * sign-in clients into every bundle: about 137 KB of the webhook's 627 KB (docs/webhook.md, "Bundle"). Passing
 * `credentials` to each client would not remove them: each client's runtime config imports the chain statically.
 * Code run outside a bundle (tests, tools) keeps the SDK's whole chain.
 */
import { type FromEnvInit, fromEnv } from "@aws-sdk/credential-provider-env";

/**
 * Same name and shape as `@aws-sdk/credential-provider-node`'s `defaultProvider`, which the clients call once each.
 * Memoized like that chain (the clients do not memoize a default provider's answer): the variables are read once,
 * not at every request; a failed read is tried again on the next request.
 */
export function defaultProvider(init: FromEnvInit = {}): ReturnType<typeof fromEnv> {
  const read = fromEnv(init);
  let credentials: ReturnType<typeof read> | undefined;
  return () => {
    credentials ??= read().catch((error: unknown) => {
      credentials = undefined;
      throw error;
    });
    return credentials;
  };
}
