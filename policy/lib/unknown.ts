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

/** Sentinel a caller (tests, the offline preview) puts in props where a value is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("UNKNOWN");
export type Unknown = typeof UNKNOWN;

/** The engine's unknown sentinels, exactly as @pulumi/policy 1.21 (proxy.js) defines them. */
export const ENGINE_UNKNOWN_SENTINELS = {
  boolean: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  number: "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  string: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  array: "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  asset: "030794c1-ac77-496b-92df-f27374a8bd58",
  archive: "e48ece36-62e2-4504-bad9-02848725956a",
  object: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
} as const;

const SENTINELS: ReadonlySet<string> = new Set(Object.values(ENGINE_UNKNOWN_SENTINELS));

/** True for the engine's unknown sentinels and for `UNKNOWN`. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && SENTINELS.has(value));
}

/** Property names the @pulumi/policy proxies answer for themselves (proxy.js `isSpecialProxy`/`getSpecialProxyTarget`). */
const IS_SPECIAL_PROXY = "__isSpecialProxy";
const GET_SPECIAL_PROXY_TARGET = "__getSpecialProxyTarget";

/**
 * Returns the plain object behind @pulumi/policy's unknown-checking (or secrets-preserving) proxy, so that
 * reading an unknown property yields its sentinel instead of throwing. Plain values pass through unchanged.
 */
export function unwrapProxy<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (v[IS_SPECIAL_PROXY] === true) {
      const target = v[GET_SPECIAL_PROXY_TARGET];
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
