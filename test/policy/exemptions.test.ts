// Every policy of the pack: a violating fixture, and the shared exemption knobs (name pattern, resource tag,
// stack tag) each turning the violation into "not applicable".
import * as assert from "node:assert/strict";
import type { EvalResource, PolicyConfigValue } from "../../policy/evaluate";
import { checkExemption, stackTagExemption } from "../../policy/lib/exemptions";
import { policies } from "../../policy/policies";
import { json, res, runPolicy } from "./helpers";

const TAGS = { exempt: "yes" };
const FN_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:target-fn";

/** Per policy: resources that violate it; the FIRST resource is the one reported and the one carrying tags. */
const FIXTURES: Record<string, { resources: EvalResource[]; config?: Record<string, unknown> }> = {
  "aws-iam-policy-no-wildcard-actions": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "*", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-policy-no-star-resource": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-policy-no-passrole-star": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-policy-known-actions": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "sqs:SendMesage", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-policy-no-privilege-escalation": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "iam:AttachRolePolicy", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-policy-no-credential-exposure": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::123456789012:user/*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-compute-no-plaintext-secrets": {
    resources: [
      res("aws:lambda/function:Function", "target", {
        environment: { variables: { TOKEN: "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" } },
        tags: TAGS,
      }),
    ],
  },
  "aws-ec2-instance-imds-hop-limit": {
    resources: [
      res("aws:ec2/launchTemplate:LaunchTemplate", "target", {
        metadataOptions: { httpPutResponseHopLimit: 2 },
        tags: TAGS,
      }),
    ],
  },
  "aws-codebuild-project-no-privileged-mode": {
    resources: [res("aws:codebuild/project:Project", "target", { environment: { privilegedMode: true }, tags: TAGS })],
  },
  "aws-resource-policy-no-public-principal": {
    resources: [
      res("aws:kms/key:Key", "target", {
        policy: json({ Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" }),
        enableKeyRotation: true,
        tags: TAGS,
      }),
    ],
  },
  "aws-kms-key-rotation-enabled": { resources: [res("aws:kms/key:Key", "target", { tags: TAGS })] },
  "aws-ec2-subnet-no-public-ip-on-launch": {
    resources: [res("aws:ec2/subnet:Subnet", "target", { mapPublicIpOnLaunch: true, tags: TAGS })],
  },
  "aws-eks-cluster-endpoint-and-secrets": {
    resources: [res("aws:eks/cluster:Cluster", "target", { vpcConfig: { endpointPublicAccess: true }, tags: TAGS })],
  },
  "aws-iam-policy-no-allow-not-elements": {
    resources: [
      res("aws:iam/policy:Policy", "target", {
        policy: json({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-attachment-no-broad-managed-policies": {
    resources: [
      res("aws:iam/role:Role", "target", {
        managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-role-no-public-trust": {
    resources: [
      res("aws:iam/role:Role", "target", {
        assumeRolePolicy: json({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }),
        tags: TAGS,
      }),
    ],
  },
  "aws-iam-role-github-oidc-trust-pinned": {
    resources: [
      res("aws:iam/role:Role", "target", {
        assumeRolePolicy: json({
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" },
          Action: "sts:AssumeRoleWithWebIdentity",
        }),
        tags: TAGS,
      }),
    ],
  },
  "aws-ebs-volume-encrypted": { resources: [res("aws:ebs/volume:Volume", "target", { type: "gp3", tags: TAGS })] },
  "aws-ec2-launch-template-root-volume-declared": {
    resources: [
      res("aws:ec2/launchTemplate:LaunchTemplate", "target", {
        blockDeviceMappings: [{ deviceName: "/dev/sdf", ebs: { volumeType: "gp3", encrypted: "true" } }],
        tags: TAGS,
      }),
    ],
  },
  "aws-ebs-volume-gp3": {
    resources: [res("aws:ebs/volume:Volume", "target", { type: "gp2", encrypted: true, tags: TAGS })],
  },
  "aws-ec2-instance-terminate-on-shutdown": {
    resources: [res("aws:ec2/instance:Instance", "target", { instanceInitiatedShutdownBehavior: "stop", tags: TAGS })],
  },
  "aws-ec2-instance-imdsv2-required": {
    resources: [res("aws:ec2/launchTemplate:LaunchTemplate", "target", { tags: TAGS })],
  },
  "aws-ec2-instance-no-public-ip": {
    resources: [res("aws:ec2/instance:Instance", "target", { associatePublicIpAddress: true, tags: TAGS })],
  },
  "aws-sqs-queue-encrypted": { resources: [res("aws:sqs/queue:Queue", "target", { tags: TAGS })] },
  "aws-ecr-repository-immutable-tags": { resources: [res("aws:ecr/repository:Repository", "target", { tags: TAGS })] },
  "aws-ecr-repository-scan-on-push": { resources: [res("aws:ecr/repository:Repository", "target", { tags: TAGS })] },
  "aws-cloudwatch-loggroup-retention": {
    resources: [res("aws:cloudwatch/logGroup:LogGroup", "target", { tags: TAGS })],
  },
  "aws-lambda-function-async-failure-destination": {
    resources: [
      res("aws:lambda/function:Function", "target", { name: "target-fn", arn: FN_ARN, tags: TAGS }),
      res("aws:lambda/permission:Permission", "perm", {
        action: "lambda:InvokeFunction",
        function: FN_ARN,
        principal: "events.amazonaws.com",
      }),
    ],
  },
  "aws-s3-bucket-public-access-blocked": {
    resources: [res("aws:s3/bucket:Bucket", "target", { bucket: "target-1", tags: TAGS })],
  },
  "aws-s3-bucket-encryption": {
    resources: [res("aws:s3/bucket:Bucket", "target", { bucket: "target-1", tags: TAGS })],
    config: { requireKms: true },
  },
};

describe("every policy: violation and shared exemptions (name pattern, tags, stack tags)", () => {
  it("has a fixture for every policy of the pack", () => {
    assert.deepEqual(Object.keys(FIXTURES).sort(), policies.map((p) => p.name).sort());
  });

  for (const [name, fixture] of Object.entries(FIXTURES)) {
    describe(name, () => {
      const target = fixture.resources[0];
      const run = (extra: Record<string, unknown>, stackTags?: Record<string, string>) =>
        runPolicy(name, fixture.resources, {
          config: { [name]: { ...(fixture.config ?? {}), ...extra } as PolicyConfigValue },
          stackTags,
        });
      const isStack = "validateStack" in policies.find((p) => p.name === name)!;

      it("reports the fixture, against the target resource", async () => {
        const r = await run({});
        assert.ok(r.violations.length > 0);
        assert.ok(r.violations.every((v) => v.urn === target.urn && v.policy === name));
      });

      it("exemptNamePatterns", async () => {
        const r = await run({ exemptNamePatterns: ["tar*"] });
        assert.deepEqual(r.violations, []);
        if (!isStack)
          assert.ok(
            r.notApplicable.some((n) => n.policy === name && /exempt name pattern "tar\*"/.test(n.reason ?? "")),
          );
        assert.ok((await run({ exemptNamePatterns: ["other-*"] })).violations.length > 0);
      });

      it("exemptTags", async () => {
        assert.deepEqual((await run({ exemptTags: { exempt: "yes" } })).violations, []);
        assert.deepEqual((await run({ exemptTags: { exempt: "*" } })).violations, []);
        assert.ok((await run({ exemptTags: { exempt: "no" } })).violations.length > 0);
      });

      it("exemptStackTags (with the stack's tags)", async () => {
        const exempt = await run({ exemptStackTags: { env: "sandbox" } }, { env: "sandbox" });
        assert.deepEqual(exempt.violations, []);
        assert.ok(
          exempt.notApplicable.some(
            (n) => n.policy === name && /stack carries the exemption tag env=sandbox/.test(n.reason ?? ""),
          ),
        );
        assert.ok((await run({ exemptStackTags: { env: "sandbox" } }, { env: "prod" })).violations.length > 0);
        assert.ok((await run({}, { env: "sandbox" })).violations.length > 0, "stack tags alone exempt nothing");
      });
    });
  }
});

describe("policy/lib/exemptions", () => {
  it("checkExemption: names, tags, unknown tags", () => {
    assert.deepEqual(checkExemption("a", {}, {}), { exempt: false, undecided: false });
    assert.equal(checkExemption("runner-1", {}, { exemptNamePatterns: ["runner-?"] }).exempt, true);
    assert.equal(checkExemption("runner-10", {}, { exemptNamePatterns: ["runner-?"] }).exempt, false);
    assert.equal(checkExemption("a", { k: "v" }, { exemptTags: { k: "v" } }).exempt, true);
    assert.equal(checkExemption("a", { k: "w" }, { exemptTags: { k: "v" } }).exempt, false);
    assert.deepEqual(checkExemption("a", "04da6b54-80e4-46f7-96ec-b56ff0331ba9", { exemptTags: { k: "v" } }), {
      exempt: false,
      undecided: true,
    });
    assert.deepEqual(checkExemption("a", { k: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }, { exemptTags: { k: "v" } }), {
      exempt: false,
      undecided: true,
    });
    assert.deepEqual(
      checkExemption("a", { other: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }, { exemptTags: { k: "v" } }),
      { exempt: false, undecided: false },
    );
  });

  it("stackTagExemption", () => {
    const tags = new Map([["env", "dev"]]);
    assert.match(stackTagExemption(tags, { exemptStackTags: { env: "*" } }) ?? "", /env=dev/);
    assert.equal(stackTagExemption(tags, { exemptStackTags: { env: "prod" } }), undefined);
    assert.equal(stackTagExemption(tags, {}), undefined);
  });
});
