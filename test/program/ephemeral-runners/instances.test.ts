/**
 * EphemeralRunners' instances: launch templates, images, the rendered bootstrap, their security group, log
 * group and role.
 */
import { strict as assert } from "node:assert";
import { METRIC, POOL_DIMENSION } from "../../../contract/metrics";
import {
  METRICS_NAMESPACE,
  runnerCacheKey,
  runnerCacheManifestKey,
  runnerParameterName,
} from "../../../contract/names";
import { assertNoWildcardActions, list, rolePolicy } from "../support";
import { ACCOUNT, fullConfig, GOLDEN, PREFIX, REGION, type Built, UBUNTU, useEphemeralRunners, VPC } from "./harness";

describe("EphemeralRunners", () => {
  const h = useEphemeralRunners();

  describe("with five pools and a warm pool", () => {
    let built: Built;
    before(async () => {
      built = await h.build("runners", fullConfig);
    });

    it("creates one launch template per pool with the runner settings", () => {
      const templates = built.byType("aws:ec2/launchTemplate:LaunchTemplate");
      assert.deepEqual(templates.map((t) => t.name).sort(), [
        "runners-golden",
        "runners-linux-arm64",
        "runners-linux-x64",
        "runners-pinned",
        "runners-ubuntu",
      ]);
      const profile = built.named("aws:iam/instanceProfile:InstanceProfile", "runners-instance");
      const securityGroup = built.named("aws:ec2/securityGroup:SecurityGroup", "runners-runners");
      for (const template of templates) {
        const pool = fullConfig.runners.pools.find((p) => `runners-${p.name}` === template.name)!;
        const lt = template.inputs;
        assert.equal(lt.instanceInitiatedShutdownBehavior, "terminate");
        assert.deepEqual(lt.blockDeviceMappings, [
          {
            // The root device of the pool's AMI, read at deploy time: Canonical's Ubuntu images boot from /dev/sda1.
            deviceName: pool.name === "ubuntu" ? "/dev/sda1" : "/dev/xvda",
            ebs: {
              volumeType: "gp3",
              volumeSize: pool.diskSizeGiB ?? 40,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ]);
        assert.deepEqual(lt.metadataOptions, {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "enabled",
        });
        assert.equal(lt.networkInterfaces.length, 1);
        const nic = lt.networkInterfaces[0];
        assert.equal(nic.associatePublicIpAddress, "false");
        assert.deepEqual(nic.securityGroups, [securityGroup.state.id]);
        assert.equal(nic.deleteOnTermination, "true");
        assert.equal(nic.subnetId, undefined, "CreateFleet overrides choose the subnet");
        assert.equal(lt.instanceType, undefined, "CreateFleet overrides choose the instance type");
        assert.deepEqual(lt.iamInstanceProfile, { arn: profile.state.arn });
        assert.equal(lt.updateDefaultVersion, true);
        const tagged = lt.tagSpecifications.map((s: { resourceType: string }) => s.resourceType).sort();
        assert.deepEqual(tagged, ["instance", "volume"]);
        for (const spec of lt.tagSpecifications) {
          assert.equal(spec.tags["cirunners:pool"], pool.name);
          assert.equal(spec.tags["cirunners:stack"], "dev");
        }
      }
    });

    it("resolves AMIs through SSM at launch unless the pool pins an AMI id", () => {
      const imageOf = (pool: string) =>
        built.named("aws:ec2/launchTemplate:LaunchTemplate", `runners-${pool}`).inputs.imageId;
      assert.equal(
        imageOf("linux-x64"),
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      );
      assert.equal(
        imageOf("linux-arm64"),
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      );
      assert.equal(imageOf("pinned"), "ami-0123456789abcdef0");
      assert.equal(imageOf("ubuntu"), `resolve:ssm:${UBUNTU}`);
      assert.equal(imageOf("golden"), `resolve:ssm:${GOLDEN}`);
    });

    it("renders the bootstrap into the user data with the pool's architecture, prefix, bucket and log group", () => {
      const bucket = built.named("aws:s3/bucket:Bucket", "runners-runner-cache");
      const logGroup = built.named("aws:cloudwatch/logGroup:LogGroup", "runners-runners");
      for (const pool of ["linux-x64", "linux-arm64"]) {
        const script = Buffer.from(
          built.named("aws:ec2/launchTemplate:LaunchTemplate", `runners-${pool}`).inputs.userData,
          "base64",
        ).toString("utf8");
        assert.match(script, /^#!/, "user data is a script");
        const exported = Object.fromEntries(
          [...script.matchAll(/^export (CIRUNNERS_[A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
        );
        const architecture = pool === "linux-arm64" ? "arm64" : "x64";
        assert.deepEqual(exported, {
          CIRUNNERS_INSTANCE_ID_PLACEHOLDER: "{instance-id}",
          CIRUNNERS_LOG_GROUP: logGroup.state.name,
          // The launcher's timeout (90 s) plus a minute: the config is written right after CreateFleet returns.
          CIRUNNERS_PARAMETER_WAIT_SECONDS: "150",
          CIRUNNERS_RUNNER_ARCH: architecture,
          CIRUNNERS_RUNNER_CACHE_BUCKET: bucket.state.bucket,
          // The names the launcher writes and the runner-cache function fills, by the contract's rules.
          CIRUNNERS_RUNNER_PARAMETER_TEMPLATE: runnerParameterName(PREFIX, "{instance-id}"),
          CIRUNNERS_RUNNER_TARBALL_KEY: runnerCacheKey(architecture),
          CIRUNNERS_RUNNER_MANIFEST_KEY: runnerCacheManifestKey(architecture),
          // Per pool: docker on and sudo off by default; the start-failure report names the pool.
          CIRUNNERS_POOL: pool,
          CIRUNNERS_DOCKER: "true",
          CIRUNNERS_SUDO: "false",
          CIRUNNERS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          CIRUNNERS_POOL_DIMENSION: POOL_DIMENSION,
          CIRUNNERS_START_FAILURE_METRIC: METRIC.runnerStartFailures,
          CIRUNNERS_START_FAILURE_TOKEN: "RUNNER_START_FAILURE",
          CIRUNNERS_IMAGE_MARKER: "/etc/cirunners/runner-image.json",
          CIRUNNERS_AWS_CLI_URL: `https://awscli.amazonaws.com/awscli-exe-linux-${architecture === "arm64" ? "aarch64" : "x86_64"}.zip`,
          CIRUNNERS_CW_AGENT_DEB_URL: `https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/${architecture === "arm64" ? "arm64" : "amd64"}/latest/amazon-cloudwatch-agent.deb`,
        });
      }
    });

    it("gives the runners a security group without inbound rules", () => {
      const sg = built.named("aws:ec2/securityGroup:SecurityGroup", "runners-runners").inputs;
      assert.equal(sg.vpcId, VPC);
      assert.deepEqual(sg.ingress, []);
      assert.deepEqual(
        sg.egress.map((e: { protocol: string; cidrBlocks: string[] }) => [e.protocol, e.cidrBlocks]),
        [["-1", ["0.0.0.0/0"]]],
      );
    });

    it("writes runner logs to a log group with retention", () => {
      const group = built.named("aws:cloudwatch/logGroup:LogGroup", "runners-runners");
      assert.equal(group.inputs.name, PREFIX);
      assert.equal(group.inputs.retentionInDays, 14);
    });

    it("lets an instance read and delete only its own JIT config, read the cache, write its logs and use Session Manager", () => {
      const role = built.named("aws:iam/role:Role", "runners-instance");
      const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement;
      assert.deepEqual(trust, [
        // EC2 sends no aws:SourceAccount when an instance takes up its role: a condition would deny every runner.
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      const profile = built.named("aws:iam/instanceProfile:InstanceProfile", "runners-instance");
      assert.equal(profile.inputs.role, role.state.name);
      const attachments = built.children.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
      assert.deepEqual(
        attachments,
        [],
        "no managed policies: AmazonSSMManagedInstanceCore would grant ssm:GetParameter on every parameter",
      );

      const statements = rolePolicy(built.children, role);
      assertNoWildcardActions(statements);
      const bucket = built.named("aws:s3/bucket:Bucket", "runners-runner-cache");
      const logGroup = built.named("aws:cloudwatch/logGroup:LogGroup", "runners-runners");
      const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
      assert.deepEqual(Object.keys(bySid).sort(), [
        "PutRunnerStartFailureMetric",
        "ReadAndDeleteOwnRunnerConfig",
        "ReadRunnerBinaryCache",
        "SessionManagerChannels",
        "SessionManagerHeartbeat",
        "WriteRunnerLogs",
      ]);

      assert.deepEqual(bySid.ReadAndDeleteOwnRunnerConfig, {
        Sid: "ReadAndDeleteOwnRunnerConfig",
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:DeleteParameter"],
        Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PREFIX}/*`,
        Condition: { StringEquals: { "aws:ResourceTag/cirunners:instance-arn": "${ec2:SourceInstanceARN}" } },
      });
      assert.deepEqual(bySid.ReadRunnerBinaryCache.Action, ["s3:GetObject"]);
      assert.equal(bySid.ReadRunnerBinaryCache.Resource, `${bucket.state.arn}/actions-runner/*`);
      assert.deepEqual(bySid.WriteRunnerLogs.Action, [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
      ]);
      assert.deepEqual(bySid.WriteRunnerLogs.Resource, [logGroup.state.arn, `${logGroup.state.arn}:*`]);

      // The agent's heartbeat has the instance resource type: scoped to instances of this account and region.
      assert.deepEqual(bySid.SessionManagerHeartbeat.Action, ["ssm:UpdateInstanceInformation"]);
      assert.equal(bySid.SessionManagerHeartbeat.Resource, `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`);
      // The message channels have no resource types, so "*" — but only those actions, named one by one.
      const session = bySid.SessionManagerChannels;
      assert.equal(session.Resource, "*");
      for (const action of list(session.Action))
        assert.match(action, /^(ssmmessages:(Create|Open)(Control|Data)Channel|ec2messages:[A-Z]\w+)$/);
      assert.ok(list(session.Action).includes("ssmmessages:OpenDataChannel"));
      // PutMetricData on "*" is narrowed to the project's namespace by its condition key.
      assert.deepEqual(bySid.PutRunnerStartFailureMetric.Condition, {
        StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE },
      });
      for (const s of statements.filter(
        (x) => x.Sid !== "SessionManagerChannels" && x.Sid !== "PutRunnerStartFailureMetric",
      )) {
        assert.ok(!list(s.Resource).includes("*"), `${s.Sid} is scoped to resources`);
      }
    });
  });
});
