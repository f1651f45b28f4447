/**
 * Stands in for `@aws-sdk/endpoint-cache` in every bundle (esbuild `alias`, `BUNDLE_OPTIONS` in
 * program/shared/lambda.ts; docs/webhook.md, "Bundle"): the cache of endpoints found by endpoint discovery, which
 * only the DynamoDB client uses, and which brings an LRU cache package (`mnemonist`): about 8 KB, 2.3 KB gzip, of
 * the webhook.
 *
 * Endpoint discovery is optional for DynamoDB and off unless turned on: by the client's `endpointDiscoveryEnabled`,
 * `AWS_ENABLE_ENDPOINT_DISCOVERY` or `endpoint_discovery_enabled` in a shared config file (AWS SDKs and Tools
 * Reference Guide, "Endpoint discovery", https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoint-discovery.html).
 * These functions set none of them, and Lambda has no shared config file. Off, the SDK still creates the cache and
 * asks it for a discovered endpoint before every DynamoDB request, and it never holds one: this cache is that
 * empty cache. Anything that would store an endpoint (discovery turned on) fails loudly.
 */

const MESSAGE =
  "DynamoDB endpoint discovery is not in this bundle (@aws-sdk/endpoint-cache is stubbed by BUNDLE_OPTIONS in " +
  "program/shared/lambda.ts): leave endpointDiscoveryEnabled / AWS_ENABLE_ENDPOINT_DISCOVERY unset";

/** Same name and methods as `@aws-sdk/endpoint-cache`'s `EndpointCache`, always empty. */
export class EndpointCache {
  /** No discovered endpoint: the client's regular endpoint is used. */
  getEndpoint(_key: string): undefined {
    return undefined;
  }

  get(_key: string): undefined {
    return undefined;
  }

  has(_key: string): boolean {
    return false;
  }

  set(_key: string, _endpoints: unknown): never {
    throw new Error(MESSAGE);
  }

  delete(_key: string): never {
    throw new Error(MESSAGE);
  }

  clear(): void {}
}
