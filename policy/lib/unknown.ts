// Unknown values during preview.
//
// During `pulumi preview` the engine sends a property whose value is not known yet (an output of a resource
// that does not exist yet) as one of seven sentinel strings (see @pulumi/policy's proxy.js). The props that a
// policy receives are wrapped in an "unknown-checking proxy" that throws `UnknownValueError` as soon as a
// policy reads such a property; the engine then turns the whole policy run into an advisory "can't run
// policy during preview" diagnostic. That would hide violations that are already certain (a policy document
// where one statement is unknown and another is `Action: "*"`), so the policies in this pack read the raw
// props behind the proxy (the proxy's own `__getSpecialProxyTarget` escape hatch) and treat sentinels
// explicitly with `isUnknown`.

import * as policyProxy from "@pulumi/policy/proxy";

/** Sentinel a caller (tests, the offline preview) puts in props where a value is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("UNKNOWN");
export type Unknown = typeof UNKNOWN;

/**
 * The runtime exports of @pulumi/policy's proxy module (its .d.ts declares none, so they are typed here): the
 * unknown-checking proxy the engine wraps props in, its escape hatches, and the per-kind unknown sentinels.
 */
export interface EngineProxyModule {
  unknownCheckingProxy<T>(toProxy: T): T;
  UnknownValueError: new (...args: never[]) => Error;
  isSpecialProxy: string;
  getSpecialProxyTarget: string;
  unknownBooleanValue: string;
  unknownNumberValue: string;
  unknownStringValue: string;
  unknownArrayValue: string;
  unknownAssetValue: string;
  unknownArchiveValue: string;
  unknownObjectValue: string;
}
export const engineProxy = policyProxy as unknown as EngineProxyModule;

/**
 * The engine's unknown sentinels, read from @pulumi/policy's proxy module rather than copied. The string one equals
 * @pulumi/pulumi's `runtime.unknownValue` (what the engine sends for a computed value; a test checks it); it is not
 * imported from there because @pulumi/pulumi's runtime loads gRPC, which the offline evaluator does not need.
 */
export const ENGINE_UNKNOWN_SENTINELS = Object.freeze({
  boolean: engineProxy.unknownBooleanValue,
  number: engineProxy.unknownNumberValue,
  string: engineProxy.unknownStringValue,
  array: engineProxy.unknownArrayValue,
  asset: engineProxy.unknownAssetValue,
  archive: engineProxy.unknownArchiveValue,
  object: engineProxy.unknownObjectValue,
});

const SENTINELS: ReadonlySet<string> = new Set(Object.values(ENGINE_UNKNOWN_SENTINELS));

/** True for the engine's unknown sentinels and for `UNKNOWN`. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && SENTINELS.has(value));
}

/**
 * Returns the plain object behind @pulumi/policy's unknown-checking (or secrets-preserving) proxy, so that
 * reading an unknown property yields its sentinel instead of throwing. Plain values pass through unchanged.
 */
export function unwrapProxy<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (v[engineProxy.isSpecialProxy] === true) {
      const target = v[engineProxy.getSpecialProxyTarget];
      if (target !== undefined) {
        return target as T;
      }
    }
  }
  return value;
}

/** A plain (non-array) object, not unknown. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Tri-state result used where an unknown value makes the answer undecidable. */
export type Tri = true | false | "unknown";

/**
 * Interprets a boolean-ish property: `true`/`"true"` → true, `false`/`"false"` → false, unknown → "unknown",
 * absent → `absent` (the default the caller wants for a missing value).
 * @pulumi/aws 7 launch templates carry several booleans as strings (`ebs.encrypted: "true"`).
 */
export function boolish(value: unknown, absent: Tri): Tri {
  if (isUnknown(value)) {
    return "unknown";
  }
  if (value === undefined || value === null || value === "") {
    return absent;
  }
  if (value === true || (typeof value === "string" && value.toLowerCase() === "true")) {
    return true;
  }
  return false;
}

/** Short rendering of a value for messages. */
export function show(value: unknown): string {
  if (isUnknown(value)) {
    return "<unknown during preview>";
  }
  if (value === undefined) {
    return "<not set>";
  }
  return JSON.stringify(value);
}
