// What the offline evaluator (evaluate.ts) records, the way @pulumi/policy 1.21's server.js records it:
// reportViolation's message and object forms, "can't run policy during preview" advisories for unknown values,
// not-applicable records, and the engine's failure for any other error a policy throws.
import type { EnforcementLevel, ReportViolation, Severity } from "@pulumi/policy";
import { NotApplicableError, UnknownValueError } from "./engine";

export interface Violation {
  policy: string;
  enforcementLevel: "advisory" | "mandatory" | "remediate";
  type: string;
  name: string;
  urn?: string;
  message: string;
  severity?: Severity;
}

export interface NotApplicable {
  policy: string;
  /** The resource for resource policies; undefined for stack policies. */
  urn?: string;
  reason?: string;
}

/** Where a diagnostic points: a resource, or the stack (`pulumi:pulumi:Stack`). */
export interface Where {
  type: string;
  name: string;
  urn?: string;
}

export interface PolicyIdentity {
  name: string;
  description: string;
  severity?: Severity;
}

type Level = Violation["enforcementLevel"];

/**
 * The diagnostics of one evaluation. `notApplicable` is undefined when the caller does not want the records
 * (evaluate() returns violations only): a stack of 50,000 resources would otherwise build a million of them.
 */
export class Diagnostics {
  readonly violations: Violation[] = [];
  readonly notApplicable: NotApplicable[] | undefined;

  constructor(
    private readonly packName: string,
    private readonly packVersion: string,
    recordNotApplicable: boolean,
  ) {
    this.notApplicable = recordNotApplicable ? [] : undefined;
  }

  markNotApplicable(policy: string, urn: string | undefined, reason: string | undefined): void {
    this.notApplicable?.push({ policy, urn, reason });
  }

  /**
   * server.js makeReportViolationFun for one policy. `locate` maps the urn a stack policy names to its resource
   * (resource policies ignore it and report on the resource being analysed). One reporter serves every resource:
   * the evaluator runs one resource at a time and awaits each policy, so `locate` reads the current resource.
   */
  reporter(
    policy: PolicyIdentity,
    level: EnforcementLevel,
    locate: (urn: string | undefined) => Where,
  ): ReportViolation {
    const out = this.violations;
    return ((message: unknown, urn?: string) => {
      if (message !== null && typeof message === "object") {
        // server.js accepts an object with policy info overrides.
        const info = message as {
          name?: string;
          message?: string;
          description?: string;
          urn?: string;
          enforcementLevel?: EnforcementLevel;
          severity?: Severity;
        };
        out.push({
          policy: info.name || policy.name,
          enforcementLevel: (info.enforcementLevel || level) as Level,
          ...locate(info.urn),
          message: info.message || info.description || policy.description,
          severity: info.severity || policy.severity,
        });
        return;
      }
      const text = message ? `${policy.description}\n${String(message)}` : policy.description;
      out.push({
        policy: policy.name,
        enforcementLevel: level as Level,
        ...locate(urn),
        message: text,
        severity: policy.severity,
      });
    }) as ReportViolation;
  }

  /** server.js's catch around a policy call: unknown value → advisory; notApplicable → record; else fail. */
  fail(e: unknown, policy: PolicyIdentity, where: Where, urn: string | undefined, what: string, remediation = false) {
    const kind = remediation ? "remediation" : "policy";
    const from = `${kind} '${policy.name}' from policy pack '${this.packName}@v${this.packVersion}'`;
    if (e instanceof UnknownValueError) {
      this.violations.push({
        policy: policy.name,
        enforcementLevel: "advisory",
        ...where,
        message: `can't run ${from} during preview: ${(e as Error).message}`,
        severity: policy.severity,
      });
    } else if (e instanceof NotApplicableError) {
      this.markNotApplicable(policy.name, urn, e.reason);
    } else {
      const verb = remediation ? "remediating" : "validating";
      const err = new Error(`Error ${verb} ${what} with ${from}: ${(e as Error)?.message ?? String(e)}`);
      (err as Error & { cause?: unknown }).cause = e;
      throw err;
    }
  }
}

/** A policy's result, awaited only when it is a promise: most policies are synchronous, and an await per call
 * would cost a microtask turn for each of the (resources × policies) calls. The engine awaits every result;
 * the outcome is the same. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}
