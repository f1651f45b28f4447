// Parity test: starts the REAL policy pack (policy/index.ts served by @pulumi/policy 1.21 over gRPC, as
// `pulumi preview --policy-pack ./policy` does), sends it the engine's Configure / ConfigureStack / Analyze /
// AnalyzeStack calls for a mixed stack (with unknown values, config and stack tags), and checks that
// evaluate() returns exactly the same diagnostics and not-applicable records.
import * as assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyPack, startPackLikeCli } from "../../policy/dev/start-pack";
import { type EvalResource, evaluateDetailed, type EvaluateOptions, UNKNOWN } from "../../policy/evaluate";
import { githubTrust, res } from "./helpers";
import {
  analyzeAll,
  call,
  canon,
  configure,
  type Diag,
  describeResource,
  grpc,
  pb,
  services,
  startPack,
} from "./pack-grpc";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** evaluate()'s diagnostics and not-applicable records in the served form. */
async function local(resources: EvalResource[], evalOptions: EvaluateOptions): Promise<{ mine: Diag[]; na: string[] }> {
  const result = await evaluateDetailed(resources, evalOptions);
  return {
    mine: result.violations.map((v) => ({
      policy: v.policy,
      level: v.enforcementLevel,
      message: v.message,
      urn: v.urn,
    })),
    na: result.notApplicable.map((n) => `${n.policy}|${n.urn}|${n.reason}`),
  };
}

describe("policy pack served over gRPC matches evaluate()", function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let client: any;

  before(async () => {
    const started = await startPack();
    child = started.child;
    client = new services.AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    if (child && child.exitCode === null) child.kill();
  });

  const bucket = res("aws:s3/bucket:Bucket", "artifacts", { bucket: UNKNOWN, tags: { team: "ci" } });
  const fn = res("aws:lambda/function:Function", "reaper", { name: "reaper-fn", arn: UNKNOWN, role: UNKNOWN });
  const resources: EvalResource[] = [
    res("aws:iam/policy:Policy", "scale-up", {
      policy: {
        Version: "2012-10-17",
        Statement: [
          UNKNOWN,
          { Sid: "Launch", Effect: "Allow", Action: ["ec2:RunInstances", "ec2:DescribeInstances"], Resource: "*" },
          { Effect: "Allow", Action: "iam:PassRole", Resource: "*" },
        ],
      },
    }),
    res("aws:iam/policy:Policy", "unknown-doc", { policy: UNKNOWN }),
    res("aws:iam/role:Role", "deploy", {
      assumeRolePolicy: JSON.stringify(
        githubTrust({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/*" },
        }),
      ),
      inlinePolicies: [
        {
          name: "all",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
          }),
        },
      ],
      managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3FullAccess"],
    }),
    res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "deploy-admin", {
      role: "deploy",
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    }),
    res("aws:ec2/launchTemplate:LaunchTemplate", "runner", {
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp2", encrypted: "false" } }],
      networkInterfaces: [{ associatePublicIpAddress: "true" }],
      metadataOptions: { httpTokens: UNKNOWN },
    }),
    res("aws:ec2/instance:Instance", "bastion", {
      instanceInitiatedShutdownBehavior: "stop",
      rootBlockDevice: { volumeType: "gp3", encrypted: true },
      metadataOptions: { httpTokens: "required" },
      tags: { lifecycle: "long-lived" },
    }),
    res("aws:ebs/volume:Volume", "cache", { type: "gp3", encrypted: UNKNOWN }),
    res("aws:sqs/queue:Queue", "jobs", {}),
    res("aws:ecr/repository:Repository", "image", { imageTagMutability: "MUTABLE" }),
    res("aws:cloudwatch/logGroup:LogGroup", "logs", { retentionInDays: UNKNOWN }),
    fn,
    res(
      "aws:lambda/permission:Permission",
      "reaper-schedule",
      { action: "lambda:InvokeFunction", function: UNKNOWN, principal: "events.amazonaws.com" },
      { propertyDependencies: { function: [fn.urn] } },
    ),
    bucket,
    res(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "artifacts-pab",
      {
        bucket: UNKNOWN,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: false,
      },
      { propertyDependencies: { bucket: [bucket.urn] }, dependencies: [bucket.urn] },
    ),
    res("aws:s3/bucket:Bucket", "open", { bucket: "open-123" }),
  ];
  const evalOptions: EvaluateOptions = {
    config: {
      "aws-ec2-instance-terminate-on-shutdown": { exemptTags: { lifecycle: "long-lived" } },
      "aws-iam-role-github-oidc-trust-pinned": { allowedOwners: ["acme"] },
      "aws-ecr-repository-scan-on-push": "disabled",
      "aws-sqs-queue-encrypted": { exemptStackTags: { env: "sandbox" } },
      "aws-s3-bucket-encryption": { requireKms: true },
    },
    stackTags: { env: "sandbox", team: "ci" },
  };

  it("Configure + ConfigureStack + Analyze + AnalyzeStack equal evaluate()", async () => {
    await configure(client, evalOptions);
    const { served, na: servedNa } = await analyzeAll(client, resources);
    const { mine, na: mineNa } = await local(resources, evalOptions);
    assert.ok(served.length >= 15, `the scenario should produce many diagnostics, got ${served.length}`);
    assert.deepEqual(canon(mine), canon(served));
    assert.deepEqual([...mineNa].sort(), [...servedNa].sort());

    // Spot checks that the scenario exercises what it should.
    const policiesHit = new Set(served.map((d) => d.policy));
    for (const p of [
      "aws-iam-policy-no-star-resource",
      "aws-iam-policy-no-passrole-star",
      "aws-iam-policy-no-wildcard-actions",
      "aws-iam-attachment-no-broad-managed-policies",
      "aws-iam-role-github-oidc-trust-pinned",
      "aws-ebs-volume-encrypted",
      "aws-ebs-volume-gp3",
      "aws-ec2-instance-no-public-ip",
      "aws-ecr-repository-immutable-tags",
      "aws-lambda-function-async-failure-destination",
      "aws-s3-bucket-public-access-blocked",
      "aws-s3-bucket-encryption",
    ]) {
      assert.ok(policiesHit.has(p), `expected a diagnostic from ${p}`);
    }
    assert.ok(!policiesHit.has("aws-sqs-queue-encrypted"), "exempt by stack tag");
    assert.ok(!policiesHit.has("aws-ecr-repository-scan-on-push"), "disabled by config");
    assert.ok(
      !served.some((d) => d.policy === "aws-ec2-instance-terminate-on-shutdown" && d.urn?.endsWith("::bastion")),
      "exempt by tag",
    );
    assert.ok(
      served.some((d) => d.policy === "aws-ec2-instance-terminate-on-shutdown" && d.urn?.endsWith("::runner")),
      "a runner template without terminate",
    );
  });

  it("EKS node group templates: the pack sees the engine's dependencies exactly as evaluate() does", async () => {
    const LT = "aws:ec2/launchTemplate:LaunchTemplate";
    const NG = "aws:eks/nodeGroup:NodeGroup";
    const component = res("cirunners:arc:SpotCapacity", "capacity", {});
    const child = { parent: component.urn };
    const nodeLt = (name: string, extra: Record<string, unknown> = {}) =>
      res(
        LT,
        name,
        {
          blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true" } }],
          metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
          ...extra,
        },
        child,
      );
    const system = nodeLt("system-lt");
    const spot = nodeLt("spot-lt", { id: "lt-0123" });
    const runner = nodeLt("runner-lt");
    const dependsOnly = nodeLt("depends-only-lt");
    const ngOpts = (lt: EvalResource) => ({
      ...child,
      propertyDependencies: { launchTemplate: [lt.urn] },
      dependencies: [lt.urn],
    });
    const resources: EvalResource[] = [
      component,
      system,
      spot,
      runner,
      dependsOnly,
      res(NG, "system", { clusterName: "ci", launchTemplate: { id: UNKNOWN, version: UNKNOWN } }, ngOpts(system)),
      res(NG, "spot", { clusterName: "ci", launchTemplate: { id: "lt-0123", version: "1" } }, child),
      res(
        NG,
        "other",
        { clusterName: "ci", launchTemplate: { id: "lt-9", version: "1" } },
        {
          ...child,
          dependencies: [dependsOnly.urn],
          propertyDependencies: { clusterName: [dependsOnly.urn] },
        },
      ),
    ];
    await configure(client, {});
    const { served, na: servedNa } = await analyzeAll(client, resources);
    const { mine, na: mineNa } = await local(resources, {});
    assert.deepEqual(canon(mine), canon(served));
    assert.deepEqual([...mineNa].sort(), [...servedNa].sort());
    const flagged = served
      .filter((d) => d.policy === "aws-ec2-instance-terminate-on-shutdown")
      .map((d) => d.urn)
      .sort();
    assert.deepEqual(flagged, [dependsOnly.urn, runner.urn].sort());
  });
});

describe("policy pack started the way the Pulumi CLI starts it (run-policy-pack, ts-node, the pack's tsconfig)", function () {
  this.timeout(180_000);

  it("starts, type-checked, and answers Analyze like evaluate()", async () => {
    const started = await startPackLikeCli();
    const client = new services.AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
    try {
      const r = res("aws:sqs/queue:Queue", "jobs", {});
      const req = describeResource(new pb.AnalyzeRequest(), r);
      const resp: any = await call(client, "analyze", req);
      const served = resp.getDiagnosticsList().map((d: any) => d.getPolicyname());
      const local = (await evaluateDetailed([r])).violations.map((v) => v.policy);
      assert.deepEqual(served.sort(), local.sort());
      assert.ok(served.includes("aws-sqs-queue-encrypted"));
    } finally {
      client.close();
      started.child.kill();
    }
  });

  it("refuses to start when the pack has a type error (tsx would not notice)", async () => {
    const copy = copyPack();
    try {
      fs.appendFileSync(path.join(copy, "pack.ts"), '\nexport const BROKEN: number = "not a number";\n');
      await assert.rejects(startPackLikeCli(copy, { coldCache: true }), (e: Error) => {
        assert.match(e.message, /TS2322|not assignable to type 'number'/);
        return true;
      });
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
