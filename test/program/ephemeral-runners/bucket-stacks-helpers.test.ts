/**
 * EphemeralRunners' runner cache bucket and ingress, the component without a warm pool, the checked-in stack
 * files, and the pure helpers.
 */
import { strict as assert } from "node:assert";
import { outputValue } from "../../../testkit/pulumi-mocks";
import { readStackFile } from "../../../testkit/stack-files";
import { rolePolicy } from "../support";
import { ACCOUNT, fullConfig, github, PREFIX, REGION, type Built, useEphemeralRunners } from "./harness";

describe("EphemeralRunners", () => {
  const h = useEphemeralRunners();

  describe("with five pools and a warm pool", () => {
    let built: Built;
    before(async () => {
      built = await h.build("runners", fullConfig);
    });

    it("hardens the runner cache bucket", () => {
      const bucket = built.named("aws:s3/bucket:Bucket", "runners-runner-cache");
      const at = (type: string) => {
        const found = built.byType(type);
        assert.equal(found.length, 1, type);
        assert.equal(found[0].inputs.bucket, bucket.state.id, `${type} points at the cache bucket`);
        return found[0].inputs;
      };
      assert.deepEqual(
        (({ blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets }) => ({
          blockPublicAcls,
          blockPublicPolicy,
          ignorePublicAcls,
          restrictPublicBuckets,
        }))(at("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")),
        { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      );
      assert.equal(
        at("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules[0]
          .applyServerSideEncryptionByDefault.sseAlgorithm,
        "AES256",
      );
      assert.equal(
        at("aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule.objectOwnership,
        "BucketOwnerEnforced",
      );
      assert.equal(at("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration.status, "Enabled");
      const rule = at("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules[0];
      assert.equal(rule.status, "Enabled");
      assert.deepEqual(rule.noncurrentVersionExpiration, { noncurrentDays: 7 });
      assert.deepEqual(rule.abortIncompleteMultipartUpload, { daysAfterInitiation: 1 });
      const policy = JSON.parse(at("aws:s3/bucketPolicy:BucketPolicy").policy);
      assert.deepEqual(policy.Statement, [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucket.state.arn, `${bucket.state.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    });

    it("names the cache bucket after stack, account and region, within S3's limits", async () => {
      const bucket = built.named("aws:s3/bucket:Bucket", "runners-runner-cache");
      assert.equal(bucket.inputs.bucket, `cirunners-dev-runner-cache-${ACCOUNT}-${REGION}`);
      const { runnerCacheBucketName } = await import("../../../program/ephemeral-runners/runner-cache-bucket");
      const long = runnerCacheBucketName("Feature_Branch.Preview-Environment-42", ACCOUNT, "ap-southeast-2");
      assert.ok(long.length <= 63, long);
      assert.match(long, /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
      assert.notEqual(long, runnerCacheBucketName("Feature_Branch.Preview-Environment-43", ACCOUNT, "ap-southeast-2"));
    });

    it("fills the runner cache once at deploy time", () => {
      const invocation = built.named("aws:lambda/invocation:Invocation", "runners-runner-cache-fill");
      assert.equal(
        invocation.inputs.functionName,
        built.named("aws:lambda/function:Function", "runners-runner-cache").state.name,
      );
      assert.deepEqual(invocation.inputs.triggers, { version: "latest", architectures: "arm64,x64" });
    });

    it("creates the webhook ingress as a child and exposes its URL and queue", async () => {
      assert.equal(built.byType("cirunners:index:WebhookIngress").length, 1);
      assert.match(await outputValue<string>(built.component.webhookUrl), /^https:\/\//);
      assert.equal(
        await outputValue<string>(built.component.jobQueue.arn),
        h.recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs")!.state.arn,
      );
      assert.deepEqual(Object.keys(built.component.launchTemplates).sort(), [
        "golden",
        "linux-arm64",
        "linux-x64",
        "pinned",
        "ubuntu",
      ]);
      assert.ok(built.component.warmPool);
    });
  });

  describe("without a warm pool", () => {
    it("creates no warm-pool function, and no spot role grant when no pool uses spot", async () => {
      const { byType, component, children, named } = await h.build("plain", {
        github,
        runners: {
          pools: [
            {
              name: "linux-x64",
              labels: ["self-hosted", "linux", "x64"],
              instanceTypes: ["m7i.large"],
              architecture: "x64",
              maxRunners: 3,
              ami: "ami-0123456789abcdef0",
            },
          ],
        },
      });
      assert.equal(component.warmPool, undefined);
      assert.ok(!byType("aws:lambda/function:Function").some((f) => f.name.includes("warm-pool")));
      assert.ok(!byType("aws:scheduler/schedule:Schedule").some((s) => s.name.includes("warm-pool")));
      // reaper, runner cache, reconciler and redeliver: no warm-pool schedule.
      assert.equal(byType("aws:scheduler/schedule:Schedule").length, 4);
      const sids = rolePolicy(children, named("aws:iam/role:Role", "plain-launcher")).map((s) => s.Sid);
      assert.ok(!sids.includes("ResolveAmiParameters"), "a pinned AMI needs no SSM read");
      assert.ok(!sids.includes("CreateSpotServiceLinkedRole"));
      const esm = byType("aws:lambda/eventSourceMapping:EventSourceMapping")[0];
      assert.equal(esm.inputs.batchSize, 10, "config default");
      assert.deepEqual(esm.inputs.scalingConfig, { maximumConcurrency: 10 });
    });
  });

  describe("the stack files", () => {
    for (const stack of ["dev", "prod"]) {
      it(`builds the ${stack} stack's pools`, async () => {
        const { raw } = readStackFile(stack);
        const { config, byType, component } = await h.build(`stack${stack}`, raw, stack);
        const templates = byType("aws:ec2/launchTemplate:LaunchTemplate");
        assert.deepEqual(
          templates.map((t) => t.name).sort(),
          config.runners.pools.map((p) => `stack${stack}-${p.name}`).sort(),
        );
        for (const t of templates) {
          const pool = config.runners.pools.find((p) => t.name === `stack${stack}-${p.name}`)!;
          assert.equal(t.inputs.blockDeviceMappings[0].ebs.volumeSize, pool.diskSizeGiB);
          // A baked pool boots the stack's own runner image (prod has one since fa627c5); the rest Amazon Linux.
          if (pool.image === "baked")
            assert.equal(t.inputs.imageId, `resolve:ssm:/cirunners/${stack}/runner-images/${pool.architecture}`);
          else assert.match(t.inputs.imageId, pool.architecture === "arm64" ? /arm64$/ : /x86_64$/);
        }
        assert.equal(
          component.warmPool !== undefined,
          config.runners.pools.some((p) => p.warmPool),
          "warm pool only when a pool asks",
        );
        const ssmPolicy = byType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === `stack${stack}-instance`)!;
        assert.ok(ssmPolicy.inputs.policy.includes(`parameter/cirunners/${stack}/runners/*`));
      });
    }
  });

  describe("pure helpers", () => {
    it("builds parameter ARNs with and without an account", async () => {
      const { parameterArn, parameterPathArn } = await import("../../../contract/arn");
      const where = { partition: "aws", region: REGION, account: ACCOUNT };
      assert.equal(parameterArn(where, "/aws/service/x"), `arn:aws:ssm:${REGION}::parameter/aws/service/x`);
      assert.equal(parameterArn(where, "/mine/x"), `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/mine/x`);
      assert.equal(
        parameterPathArn(where, "/cirunners/dev/runners/"),
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirunners/dev/runners/*`,
      );
    });

    it("keeps the EC2 policy variable literal in the instance policy", () => {
      const [own] = h.program.policies.instanceRoleStatements({
        partition: "aws",
        region: REGION,
        account: ACCOUNT,
        parameterPrefix: PREFIX,
        cacheBucketArn: "arn:aws:s3:::b",
        logGroupArn: "arn:aws:logs:x",
      });
      assert.ok(JSON.stringify(own).includes('"${ec2:SourceInstanceARN}"'));
    });

    it("chooses the launch template image", () => {
      assert.deepEqual(h.program.runners.launchTemplateImage({ architecture: "arm64" }), {
        imageId: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        amiParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      });
      assert.deepEqual(h.program.runners.launchTemplateImage({ architecture: "x64", ami: "ami-0abc12345" }), {
        imageId: "ami-0abc12345",
      });
    });
  });
});
