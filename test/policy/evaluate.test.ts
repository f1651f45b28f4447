/**
 * policy/evaluate: running policies with the engine's semantics (levels, config, unknowns, remediations).
 */
import * as assert from "node:assert/strict";
import {
  evaluate,
  type Policies,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  evaluateDetailed,
  resolvePolicyConfig,
  UNKNOWN,
} from "../../policy/evaluate";
import { PACK_NAME, PACK_VERSION } from "../../policy/pack";
import { policies } from "../../policy/policies";
import { res } from "./helpers";
import { QUEUE } from "./resource-types";

/** A tiny policy set exercising the engine semantics. */
function probePolicies(): Policies {
  const resourcePolicy: ResourceValidationPolicy = {
    name: "probe-resource",
    description: "Probe resource policy.",
    enforcementLevel: "advisory",
    severity: "low",
    configSchema: { properties: { word: { type: "string", default: "hello" } } },
    validateResource: async (args, report) => {
      if (args.type !== QUEUE) args.notApplicable("queues only");
      await Promise.resolve();
      if (args.props.readUnknown) {
        void args.props.value; // may throw UnknownValueError
      }
      report(`${args.getConfig<{ word: string }>().word} ${args.name}`);
    },
  };
  const stackPolicy: StackValidationPolicy = {
    name: "probe-stack",
    description: "Probe stack policy.",
    validateStack: (args, report) => {
      report(`count=${args.resources.length}`);
      report("about the first", args.resources[0]?.urn);
    },
  };
  return [resourcePolicy, stackPolicy];
}

describe("policy/evaluate: evaluate (engine semantics)", () => {
  const q = res(QUEUE, "q", { readUnknown: false });

  it("prefixes messages with the description, keeps resource identity and severity; supports async policies", async () => {
    const vs = await evaluate([q], { policies: probePolicies() });
    assert.deepEqual(vs[0], {
      policy: "probe-resource",
      enforcementLevel: "advisory",
      type: QUEUE,
      name: "q",
      urn: q.urn,
      message: "Probe resource policy.\nhello q",
      severity: "low",
    });
    assert.equal(vs[1].message, "Probe stack policy.\ncount=1");
    assert.equal(vs[1].type, "pulumi:pulumi:Stack");
    assert.equal(vs[1].urn, undefined);
    assert.equal(vs[2].urn, q.urn);
    assert.equal(vs[2].type, QUEUE);
    assert.equal(vs[2].enforcementLevel, "mandatory", "the pack default applies to a policy without a level");
  });

  it("effective level: policy config, then 'all', then the policy's own, then the pack's; disabled skips", async () => {
    const levels = async (options: Parameters<typeof evaluate>[1]) =>
      (await evaluate([q], { policies: probePolicies(), ...options })).map((v) => `${v.policy}:${v.enforcementLevel}`);
    assert.deepEqual(await levels({ packEnforcementLevel: "advisory" }), [
      "probe-resource:advisory",
      "probe-stack:advisory",
      "probe-stack:advisory",
    ]);
    assert.deepEqual(await levels({ config: { all: "mandatory" } }), [
      "probe-resource:mandatory",
      "probe-stack:mandatory",
      "probe-stack:mandatory",
    ]);
    assert.deepEqual(
      await levels({ config: { all: "mandatory", "probe-resource": { enforcementLevel: "advisory" } } }),
      ["probe-resource:advisory", "probe-stack:mandatory", "probe-stack:mandatory"],
    );
    assert.deepEqual(
      await levels({ config: { "probe-resource": "disabled", "probe-stack": { enforcementLevel: "disabled" } } }),
      [],
    );
    assert.deepEqual(
      await levels({ config: { "probe-resource": "remediate" } }),
      ["probe-resource:mandatory", "probe-stack:mandatory", "probe-stack:mandatory"],
      "remediate reports as mandatory",
    );
  });

  it("config properties reach getConfig with defaults", async () => {
    const [v] = await evaluate([q], { policies: probePolicies(), config: { "probe-resource": { word: "bye" } } });
    assert.equal(v.message, "Probe resource policy.\nbye q");
  });

  it("records notApplicable and reports nothing for it", async () => {
    const r = await evaluateDetailed([res("aws:sns/topic:Topic", "t", {})], { policies: probePolicies() });
    assert.deepEqual(r.notApplicable, [
      { policy: "probe-resource", urn: `urn:pulumi:dev::cirunners::aws:sns/topic:Topic::t`, reason: "queues only" },
    ]);
    assert.equal(r.violations.filter((v) => v.policy === "probe-resource").length, 0);
  });

  it("turns an UnknownValueError into the engine's advisory 'can't run policy during preview' diagnostic", async () => {
    const vs = await evaluate([res(QUEUE, "q", { readUnknown: true, value: UNKNOWN })], {
      policies: probePolicies(),
      config: { all: "mandatory" },
    });
    assert.deepEqual(vs[0], {
      policy: "probe-resource",
      enforcementLevel: "advisory",
      type: QUEUE,
      name: "q",
      urn: "urn:pulumi:dev::cirunners::aws:sqs/queue:Queue::q",
      message: `can't run policy 'probe-resource' from policy pack '${PACK_NAME}@v${PACK_VERSION}' during preview: string value at .value can't be known during preview`,
      severity: "low",
    });
  });

  it("rejects on other errors, like the engine fails the analysis", async () => {
    const broken: ResourceValidationPolicy = {
      name: "broken",
      description: "d",
      validateResource: () => {
        throw new Error("boom");
      },
    };
    await assert.rejects(
      evaluate([q], { policies: [broken] }),
      /Error validating resource with policy 'broken' from policy pack '.*': boom/,
    );
  });

  it("honours the engine's __pulumiType fast path and object-form reports", async () => {
    const typed = Object.assign(
      (_args: unknown, report: (m: unknown) => void) =>
        report({ message: "custom", enforcementLevel: "advisory", name: "renamed" }),
      { __pulumiType: QUEUE },
    );
    const p: ResourceValidationPolicy = {
      name: "typed",
      description: "d",
      enforcementLevel: "mandatory",
      validateResource: typed as never,
    };
    const r = await evaluateDetailed([q, res("aws:sns/topic:Topic", "t", {})], { policies: [p] });
    assert.deepEqual(
      r.violations.map((v) => [v.policy, v.enforcementLevel, v.message, v.name]),
      [["renamed", "advisory", "custom", "q"]],
    );
    assert.deepEqual(
      r.notApplicable.map((n) => n.reason),
      [`Policy only applies to resources of type '${QUEUE}'`],
    );
  });

  it("runs remediations first when the level is remediate", async () => {
    const fix: ResourceValidationPolicy = {
      name: "fix",
      description: "fix",
      enforcementLevel: "remediate",
      remediateResource: (args) => ({ ...args.props, fixed: true }),
    };
    const check: ResourceValidationPolicy = {
      name: "check",
      description: "check",
      validateResource: (args, report) => (args.props.fixed ? undefined : report("not fixed")),
    };
    assert.deepEqual(await evaluate([q], { policies: [fix, check] }), []);
    assert.equal((await evaluate([q], { policies: [{ ...fix, enforcementLevel: "mandatory" }, check] })).length, 1);
  });

  it("validates config against the schemas and rejects invalid levels", async () => {
    await assert.rejects(
      evaluate([q], { config: { "aws-iam-policy-no-star-resource": { extraAllowedActions: "ec2:*" } } }),
      /aws-iam-policy-no-star-resource\.extraAllowedActions: must be array/,
    );
    await assert.rejects(
      evaluate([q], { config: { "aws-iam-role-github-oidc-trust-pinned": { allowedOwners: [1] } } }),
      /aws-iam-role-github-oidc-trust-pinned\.allowedOwners\[0\]: must be string/,
    );
    await assert.rejects(
      evaluate([q], { config: { "aws-ebs-volume-gp3": { exemptTags: { a: 1 } } } }),
      /aws-ebs-volume-gp3\.exemptTags\.a: must be string/,
    );
    await assert.rejects(evaluate([q], { config: { all: "loud" as never } }), /not a valid enforcement level/);
    await assert.rejects(
      evaluate([q], {
        policies: [
          {
            name: "req",
            description: "d",
            configSchema: { properties: { x: { type: "string" } }, required: ["x"] },
            validateResource: () => undefined,
          },
        ],
      }),
      /Missing required property "x"/,
    );
    const bounded = (value: unknown) =>
      evaluate([q], {
        policies: [
          {
            name: "bounded",
            description: "d",
            configSchema: { properties: { n: { type: "integer", minimum: 5 }, e: { enum: ["a"] } } },
            validateResource: () => undefined,
          },
        ],
        config: { bounded: value as never },
      });
    await assert.rejects(bounded({ n: 3 }), /bounded\.n: must be >= 5/);
    await assert.rejects(bounded({ e: "x" }), /bounded\.e: must be equal to one of the allowed values \["a"\]/);
    await bounded({ n: 7, e: "a" });
  });

  it("rejects config naming a policy the pack does not have, naming it", async () => {
    await assert.rejects(
      evaluate([q], { config: { "aws-iam-policy-no-star-resources": { extraAllowedActions: [] }, all: "advisory" } }),
      (e: Error) => {
        assert.match(e.message, /Unknown policy "aws-iam-policy-no-star-resources"/);
        assert.doesNotMatch(e.message, /Unknown policy "all"/);
        return true;
      },
    );
    await assert.rejects(evaluate([q], { config: { typo: "disabled" } }), /Unknown policy "typo"/);
  });

  it("resolvePolicyConfig applies defaults for every pack policy", () => {
    const resolved = resolvePolicyConfig(policies, {});
    assert.deepEqual(resolved.get("aws-ebs-volume-gp3")?.properties, {
      exemptNamePatterns: [],
      exemptTags: {},
      exemptStackTags: {},
      allowedVolumeTypes: ["gp3"],
    });
    assert.equal(resolved.get("aws-ecr-repository-scan-on-push")?.enforcementLevel, "advisory");
    assert.equal(resolved.get("aws-iam-policy-no-star-resource")?.enforcementLevel, "mandatory");
  });

  it("runs the full pack over a compliant mini stack without violations", async () => {
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const vs = await evaluate([
      res("aws:iam/role:Role", "fn-role", {
        assumeRolePolicy: trust,
        managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      }),
      res("aws:iam/rolePolicy:RolePolicy", "fn-sqs", {
        role: "fn-role",
        policy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource: UNKNOWN }],
        },
      }),
      res(QUEUE, "jobs", { sqsManagedSseEnabled: true }),
      res("aws:cloudwatch/logGroup:LogGroup", "fn-logs", { retentionInDays: 14 }),
      res("aws:lambda/function:Function", "fn", { name: "fn-1234", role: UNKNOWN }),
      res("aws:s3/bucket:Bucket", "b", { bucket: "b-1" }),
      res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "b-pab", {
        bucket: "b-1",
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
    ]);
    assert.deepEqual(vs, []);
  });
});
