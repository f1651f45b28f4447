// Parity test: starts the REAL policy pack (policy/index.ts served by @pulumi/policy 1.21 over gRPC, as
// `pulumi preview --policy-pack ./policy` does), sends it the engine's Configure / ConfigureStack / Analyze /
// AnalyzeStack calls for a mixed stack (with unknown values, config and stack tags), and checks that
// evaluate() returns exactly the same diagnostics and not-applicable records.
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyPack, startPackLikeCli } from "../../policy/dev/start-pack";
import {
  type EvalResource,
  evaluateDetailed,
  type EvaluateOptions,
  resolvePolicyConfig,
  toEngineProperties,
  UNKNOWN,
} from "../../policy/evaluate";
import { policies } from "../../policy/policies";
import { res } from "./helpers";

/* eslint-disable @typescript-eslint/no-explicit-any */
const POLICY_DIR = path.resolve(__dirname, "../../policy");
// Resolve the gRPC stubs the way the pack resolves @pulumi/pulumi (a workspace: possibly hoisted to the root).
const packRequire = createRequire(path.join(POLICY_DIR, "package.json"));
const protoRequire = createRequire(packRequire.resolve("@pulumi/pulumi/proto/analyzer_grpc_pb.js"));
const grpc: any = protoRequire("@grpc/grpc-js");
const services: any = protoRequire("./analyzer_grpc_pb");
const pb: any = protoRequire("./analyzer_pb");
const structPb: any = protoRequire("google-protobuf/google/protobuf/struct_pb");

const LEVEL_TO_PROTO: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const PROTO_TO_LEVEL = ["advisory", "mandatory", "disabled", "remediate"];

function startPack(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), "index.ts"], {
      cwd: POLICY_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`policy pack did not start: ${err}`)), 45_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${err}`)));
  });
}

function call<T>(client: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))),
  );
}

function options(parent?: string): any {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(false);
  if (parent) o.setParent(parent);
  return o;
}

/** Fills an AnalyzeRequest or an AnalyzerResource (same setters) with what the engine sends for the resource. */
function describeResource(message: any, r: EvalResource): any {
  message.setType(r.type);
  message.setName(r.name);
  message.setUrn(r.urn);
  message.setProperties(structPb.Struct.fromJavaScript(toEngineProperties(r.props)));
  message.setOptions(options(r.parent));
  return message;
}

interface Diag {
  policy: string;
  level: string;
  message: string;
  urn?: string;
}

const canon = (d: Diag[]) => d.map((x) => JSON.stringify(x)).sort();

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

  const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
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
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: PROVIDER },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
              StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/*" },
            },
          },
        ],
      }),
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
    // Configure the way the CLI does: every policy with its reconciled level and properties (defaults + given).
    const configure = new pb.ConfigureAnalyzerRequest();
    for (const [name, cfg] of resolvePolicyConfig(policies, evalOptions.config)) {
      const pc = new pb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_TO_PROTO[cfg.enforcementLevel]);
      pc.setProperties(structPb.Struct.fromJavaScript(cfg.properties));
      configure.getPolicyconfigMap().set(name, pc);
    }
    await call(client, "configure", configure);
    const stackConfigure = new pb.AnalyzerStackConfigureRequest();
    stackConfigure.setStack("dev");
    stackConfigure.setProject("cirunners");
    stackConfigure.setDryRun(true);
    for (const [k, v] of Object.entries(evalOptions.stackTags as Record<string, string>))
      stackConfigure.getTagsMap().set(k, v);
    await call(client, "configureStack", stackConfigure);

    const served: Diag[] = [];
    const servedNa: string[] = [];
    for (const r of resources) {
      const req = describeResource(new pb.AnalyzeRequest(), r);
      const resp: any = await call(client, "analyze", req);
      for (const d of resp.getDiagnosticsList())
        served.push({
          policy: d.getPolicyname(),
          level: PROTO_TO_LEVEL[d.getEnforcementlevel()],
          message: d.getMessage(),
          urn: r.urn,
        });
      for (const na of resp.getNotApplicableList()) servedNa.push(`${na.getPolicyName()}|${r.urn}|${na.getReason()}`);
    }
    const stackReq = new pb.AnalyzeStackRequest();
    stackReq.setResourcesList(
      resources.map((r) => {
        const ar = describeResource(new pb.AnalyzerResource(), r);
        ar.setDependenciesList(r.dependencies ?? []);
        for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
          const deps = new pb.AnalyzerPropertyDependencies();
          deps.setUrnsList(urns);
          ar.getPropertydependenciesMap().set(k, deps);
        }
        return ar;
      }),
    );
    const stackResp: any = await call(client, "analyzeStack", stackReq);
    for (const d of stackResp.getDiagnosticsList())
      served.push({
        policy: d.getPolicyname(),
        level: PROTO_TO_LEVEL[d.getEnforcementlevel()],
        message: d.getMessage(),
        urn: d.getUrn() || undefined,
      });
    for (const na of stackResp.getNotApplicableList())
      servedNa.push(`${na.getPolicyName()}|undefined|${na.getReason()}`);

    const local = await evaluateDetailed(resources, evalOptions);
    const mine: Diag[] = local.violations.map((v) => ({
      policy: v.policy,
      level: v.enforcementLevel,
      message: v.message,
      urn: v.urn,
    }));
    const mineNa = local.notApplicable.map((n) => `${n.policy}|${n.urn}|${n.reason}`);

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
