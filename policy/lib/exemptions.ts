// Config-driven exemptions shared by the policies: by resource name pattern or by resource tag.
//
// Exemptions are granted by whoever sets the policy pack config (`pulumi preview --policy-pack-config` or
// the Pulumi Cloud policy group), never by a resource author alone: the config names the tag (and value),
// the resource must carry it. Defaults: no exemptions.
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { wildcardMatch } from "./glob";
import { isRecord, isUnknown } from "./unknown";

export interface ExemptionConfig {
  /** Wildcard patterns (`*`, `?`) matched against the resource's Pulumi name (case-sensitive). */
  exemptNamePatterns?: string[];
  /** Tag key → required value; `"*"` accepts any value. A resource carrying any one of them is exempt. */
  exemptTags?: Record<string, string>;
  /** Stack tag key → required value (`"*"`: any value). The policy does not apply in a stack carrying one. */
  exemptStackTags?: Record<string, string>;
}

export const EXEMPTION_CONFIG_SCHEMA: Readonly<Record<keyof ExemptionConfig, PolicyConfigJSONSchema>> = Object.freeze({
  exemptNamePatterns: {
    type: "array",
    items: { type: "string" },
    default: [],
    description: "Resource names (Pulumi logical names; * and ? wildcards) this policy does not apply to.",
  },
  exemptTags: {
    type: "object",
    additionalProperties: { type: "string" },
    default: {},
    description: 'Tags that exempt a resource: {"tag-key": "value"}; "*" accepts any value of the tag.',
  },
  exemptStackTags: {
    type: "object",
    additionalProperties: { type: "string" },
    default: {},
    description: 'Stack tags that exempt the whole stack: {"tag-key": "value"}; "*" accepts any value.',
  },
});

/** The reason a stack is exempt (one of exemptStackTags matches the stack's tags), or undefined. */
export function stackTagExemption(stackTags: ReadonlyMap<string, string>, config: ExemptionConfig): string | undefined {
  const wanted = config.exemptStackTags;
  // for-in, not Object.entries: this runs for every policy on every resource, mostly over an empty object.
  for (const key in wanted) {
    const value = wanted[key];
    const actual = stackTags.get(key);
    if (actual !== undefined && (value === "*" || actual === value)) {
      return `the stack carries the exemption tag ${key}=${actual} named in the policy config`;
    }
  }
  return undefined;
}

export type ExemptionResult = { exempt: true; reason: string } | { exempt: false; undecided: boolean };

/** The common answer, shared (read-only) rather than allocated for every policy call. */
const NOT_EXEMPT: ExemptionResult = Object.freeze({ exempt: false, undecided: false });

/**
 * Decides whether a resource is exempt. `undecided` is true when an exemption tag might be present but its
 * value (or the whole tags map) is unknown during preview; a policy must then not report a violation.
 */
export function checkExemption(name: string, tags: unknown, config: ExemptionConfig): ExemptionResult {
  for (const pattern of config.exemptNamePatterns ?? []) {
    if (wildcardMatch(pattern, name, false)) {
      return {
        exempt: true,
        reason: `resource name "${name}" matches the exempt name pattern "${pattern}" in the policy config`,
      };
    }
  }
  const exemptTags = config.exemptTags;
  let any = false;
  for (const _ in exemptTags) {
    any = true;
    break;
  }
  if (!any) {
    return NOT_EXEMPT;
  }
  const wanted = Object.entries(exemptTags as Record<string, string>);
  if (isUnknown(tags)) {
    return { exempt: false, undecided: true };
  }
  let undecided = false;
  if (isRecord(tags)) {
    for (const [key, value] of wanted) {
      if (!(key in tags)) {
        continue;
      }
      const actual = tags[key];
      if (isUnknown(actual)) {
        undecided = true;
      } else if (typeof actual === "string" && (value === "*" || actual === value)) {
        return {
          exempt: true,
          reason: `resource carries the exemption tag ${key}=${actual} named in the policy config`,
        };
      }
    }
  }
  return { exempt: false, undecided };
}
