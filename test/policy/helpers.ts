// Shared builders for the policy pack tests.
import * as assert from "node:assert/strict";
import {
  evaluateDetailed,
  type EvalResource,
  type EvaluateOptions,
  type EvaluationResult,
  type Policies,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  type Violation,
} from "../../policy/evaluate";
import { policies } from "../../policy/policies";

export const STACK = "urn:pulumi:dev::cirunners";

/** A resource with a realistic URN. */
export function res(
  type: string,
  name: string,
  props: Record<string, unknown>,
  extra: Partial<EvalResource> = {},
): EvalResource {
  return { type, name, urn: `${STACK}::${type}::${name}`, props, ...extra };
}

export function policyNamed(name: string): ResourceValidationPolicy | StackValidationPolicy {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new Error(`no policy named ${name}`);
  return p;
}

/** Runs ONE policy of the pack over the resources (engine semantics via evaluate). */
export async function runPolicy(
  name: string,
  resources: EvalResource[],
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  return evaluateDetailed(resources, { ...options, policies: [policyNamed(name)] as Policies });
}

/** Violation messages of one policy (message without the description line). */
export async function messages(
  name: string,
  resources: EvalResource[],
  options: EvaluateOptions = {},
): Promise<string[]> {
  const result = await runPolicy(name, resources, options);
  for (const v of result.violations) {
    assert.equal(v.policy, name);
  }
  return result.violations.map(detail);
}

/** The policy-specific part of a violation message (the engine prefixes the policy description). */
export function detail(v: Violation): string {
  const nl = v.message.indexOf("\n");
  return nl >= 0 ? v.message.slice(nl + 1) : v.message;
}

export async function assertViolates(
  name: string,
  resources: EvalResource[],
  ...expected: (string | RegExp)[]
): Promise<string[]> {
  const found = await messages(name, resources);
  assert.ok(found.length > 0, `expected a ${name} violation, got none`);
  for (const e of expected) {
    assert.ok(
      found.some((m) => (typeof e === "string" ? m.includes(e) : e.test(m))),
      `expected a ${name} message matching ${String(e)}; got:\n  ${found.join("\n  ")}`,
    );
  }
  return found;
}

export async function assertClean(
  name: string,
  resources: EvalResource[],
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const result = await runPolicy(name, resources, options);
  assert.deepEqual(result.violations.map(detail), [], `expected no ${name} violations`);
  return result;
}

/** Asserts the policy was recorded as not applicable for the resource (or the stack), with a reason matching. */
export function assertNotApplicable(result: EvaluationResult, name: string, reason: RegExp, urn?: string): void {
  assert.ok(
    result.notApplicable.some((n) => n.policy === name && n.urn === urn && reason.test(n.reason ?? "")),
    `expected ${name} to be not applicable (${String(reason)}); got ${JSON.stringify(result.notApplicable)}`,
  );
}

export const doc = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
export const json = (...statements: unknown[]) => JSON.stringify(doc(...statements));

/** A role trust policy for Lambda: the usual trust of a role the tests attach policies to. */
export const LAMBDA_TRUST = json({
  Effect: "Allow",
  Principal: { Service: "lambda.amazonaws.com" },
  Action: "sts:AssumeRole",
});

export const GITHUB_OIDC_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

/** A trust policy letting GitHub's OIDC provider assume the role under `condition` (none when undefined). */
export function githubTrust(condition: unknown, extra: Record<string, unknown> = {}) {
  return doc({
    Effect: "Allow",
    Principal: { Federated: GITHUB_OIDC_PROVIDER },
    Action: "sts:AssumeRoleWithWebIdentity",
    ...(condition === undefined ? {} : { Condition: condition }),
    ...extra,
  });
}
