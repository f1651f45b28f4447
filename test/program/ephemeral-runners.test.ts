import { strict as assert } from "node:assert";
import { METRICS_NAMESPACE, runnerCacheKey, runnerCacheManifestKey, runnerParameterName } from "../../contract/names";
import { METRIC, POOL_DIMENSION } from "../../contract/metrics";
import type { StackConfig } from "../../program/config";
import { descendantsOf, settleRegistrations, type RecordedResource } from "../../testkit/pulumi-mocks";

type RunnersModule = typeof import("../../program/ephemeral-runners");
type PoliciesModule = typeof import("../../program/ephemeral-runners/policies");

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const PREFIX = "/cirunners/dev/runners";
const SUBNETS = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"];
const VPC = "vpc-0a1b2c3d4e5f60718";
const UBUNTU = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const GOLDEN = "/acme/golden-ami/x64";

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

function stackConfig(raw: Record<string, unknown>): StackConfig {
  // Loaded lazily: config.ts imports @pulumi/pulumi, which must see the mocks first.
  const { parseStackConfig } = require("../../program/config") as typeof import("../../program/config");
  return parseStackConfig(raw, "dev", REGION);
}

const github = {
  owner: "acme-platform",
  scope: "org",
  appId: 1048576,
  appPrivateKeyParameter: "/cirunners/dev/github-app/private-key",
  runnerGroup: "ephemeral-dev",
};

const fullConfig = {
  github,
  runners: {
    pools: [
      {
        name: "linux-x64",
        labels: ["self-hosted", "linux", "x64"],
        instanceTypes: ["m7i.large", "m6i.large"],
        architecture: "x64",
        diskSizeGiB: 40,
        maxRunners: 10,
        spot: true,
        warmPool: { size: 2, startHour: 7, endHour: 19, timezone: "Europe/Berlin" },
      },
      {
        name: "linux-arm64",
        labels: ["self-hosted", "linux", "arm64"],
        instanceTypes: ["m7g.large"],
        architecture: "arm64",
        diskSizeGiB: 60,
        maxRunners: 5,
        spot: true,
      },
      {
        name: "pinned",
        labels: ["self-hosted", "linux", "pinned"],
        instanceTypes: ["c7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: "ami-0123456789abcdef0",
      },
      {
        name: "ubuntu",
        labels: ["self-hosted", "linux", "ubuntu"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: UBUNTU,
      },
      {
        name: "golden",
        labels: ["self-hosted", "linux", "golden"],
        instanceTypes: ["m7i.large"],
        architecture: "x64",
        maxRunners: 2,
        ami: GOLDEN,
      },
    ],
    launcher: { batchSize: 5, maxConcurrency: 7, maxReceiveCount: 3, timeoutSeconds: 90 },
    bootGraceMinutes: 9,
    maxJobHours: 6,
    reaperSchedule: "rate(3 minutes)",
  },
};

describe("EphemeralRunners", () => {
  let recorded: RecordedResource[];
  let outputValue: <T>(o: unknown) => Promise<T>;
  let runners: RunnersModule;
  let policies: PoliciesModule;

  before(async () => {
    const mocks = await import("../../testkit/pulumi-mocks");
    ({ recorded } = await mocks.installMocks({ region: REGION, stack: "dev" }));
    outputValue = mocks.outputValue as never;
    runners = await import("../../program/ephemeral-runners");
    policies = await import("../../program/ephemeral-runners/policies");
  });

  const childrenOf = (urn: string) => descendantsOf(recorded, urn);

  const settle = () => settleRegistrations(recorded);

  async function build(name: string, raw: Record<string, unknown>, stack = "dev") {
    const config = stackConfig(raw);
    const component = new runners.EphemeralRunners(name, {
      stack,
      github: config.github,
      runners: config.runners,
      network: { vpcId: VPC, privateSubnetIds: SUBNETS },
      logRetentionDays: 14,
      tags: { "cirunners:stack": "dev" },
    });
    const urn = await outputValue<string>(component.urn);
    await settle();
    const children = childrenOf(urn);
    const byType = (type: string) => children.filter((r) => r.type === type);
    const named = (type: string, logicalName: string) => {
      const found = children.find((r) => r.type === type && r.name === logicalName);
      assert.ok(found, `${type} ${logicalName} was not registered`);
      return found;
    };
    return { component, config, children, byType, named };
  }

  /** The inline policy document of a role (RolePolicy whose role is the role's id). */
  function rolePolicy(children: RecordedResource[], role: RecordedResource): Statement[] {
    const policy = children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role.state.id);
    assert.ok(policy, `no inline policy on role ${role.name}`);
    return JSON.parse(policy.inputs.policy).Statement;
  }

  function assertNoWildcardActions(statements: Statement[]): void {
    for (const s of statements.filter((x) => x.Effect === "Allow")) {
      for (const action of list(s.Action)) {
        assert.ok(!action.includes("*"), `statement ${s.Sid} grants the wildcard action ${action}`);
      }
    }
  }

  describe("with five pools and a warm pool", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
      built = await build("runners", fullConfig);
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

    it("feeds the launcher from the job queue with the configured batch size and concurrency, reporting partial failures", () => {
      const esm = built.byType("aws:lambda/eventSourceMapping:EventSourceMapping");
      assert.equal(esm.length, 1);
      const launcherFn = built.named("aws:lambda/function:Function", "runners-launcher");
      const jobQueue = recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs");
      assert.ok(jobQueue, "the ingress's job queue");
      assert.equal(esm[0].inputs.eventSourceArn, jobQueue.state.arn);
      assert.equal(esm[0].inputs.functionName, launcherFn.state.arn);
      assert.equal(esm[0].inputs.batchSize, 5);
      assert.deepEqual(esm[0].inputs.scalingConfig, { maximumConcurrency: 7 });
      assert.deepEqual(esm[0].inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
      assert.ok(!esm[0].inputs.maximumBatchingWindowInSeconds, "no batching window (zero added delay)");
      assert.equal(launcherFn.inputs.timeout, 90);
      assert.equal(launcherFn.inputs.memorySize, 512);
    });

    it("scopes the launcher's permissions to this stack's queue, templates, subnets, security group and role", () => {
      const launcherRole = built.named("aws:iam/role:Role", "runners-launcher");
      const statements = rolePolicy(built.children, launcherRole);
      assertNoWildcardActions(statements);
      const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
      const queue = recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs")!;
      const templates = built.byType("aws:ec2/launchTemplate:LaunchTemplate");
      const sg = built.named("aws:ec2/securityGroup:SecurityGroup", "runners-runners");
      const instanceRole = built.named("aws:iam/role:Role", "runners-instance");
      const ec2 = (r: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${r}`;

      assert.deepEqual(bySid.ConsumeJobQueue, {
        Sid: "ConsumeJobQueue",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        Resource: queue.state.arn,
      });

      const launch = bySid.LaunchFromPoolTemplates;
      assert.deepEqual(list(launch.Action), ["ec2:CreateFleet", "ec2:RunInstances"]);
      assert.deepEqual(
        [...list(launch.Resource)].sort(),
        [
          ...templates.map((t) => t.state.arn),
          ...SUBNETS.map((s) => ec2(`subnet/${s}`)),
          sg.state.arn,
          `arn:aws:ec2:${REGION}::image/*`,
          ec2("instance/*"),
          ec2("volume/*"),
          ec2("network-interface/*"),
          ec2("fleet/*"),
          ec2("spot-instances-request/*"),
        ].sort(),
      );
      assert.ok(templates.every((t) => /^arn:aws:ec2:eu-west-1:123456789012:launch-template\/lt-/.test(t.state.arn)));

      assert.deepEqual(bySid.TagAtLaunchOnly.Action, ["ec2:CreateTags"]);
      assert.deepEqual(bySid.TagAtLaunchOnly.Condition, {
        StringEquals: { "ec2:CreateAction": ["CreateFleet", "RunInstances"] },
      });
      assert.ok(list(bySid.TagAtLaunchOnly.Resource).every((r) => r.startsWith(`arn:aws:ec2:${REGION}:${ACCOUNT}:`)));

      assert.deepEqual(bySid.PassInstanceRoleToEc2, {
        Sid: "PassInstanceRoleToEc2",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: instanceRole.state.arn,
        Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
      });
      assert.deepEqual(bySid.DescribeInstances.Action, ["ec2:DescribeInstances"]);
      assert.equal(bySid.DescribeInstances.Resource, "*");
      assert.deepEqual(bySid.TerminateOwnInstances.Condition, {
        StringEquals: { "aws:ResourceTag/cirunners:stack": "dev" },
      });
      assert.equal(bySid.TerminateOwnInstances.Resource, ec2("instance/*"));
      assert.deepEqual(bySid.WriteRunnerConfigs.Action, [
        "ssm:PutParameter",
        "ssm:AddTagsToResource",
        "ssm:DeleteParameters",
      ]);
      assert.deepEqual(bySid.TagOwnInstancesAfterLaunch, {
        Sid: "TagOwnInstancesAfterLaunch",
        Effect: "Allow",
        Action: ["ec2:CreateTags"],
        Resource: ec2("instance/*"),
        Condition: {
          StringEquals: { "aws:ResourceTag/cirunners:stack": "dev" },
          "ForAllValues:StringEquals": {
            "aws:TagKeys": [
              "cirunners:runner-name",
              "cirunners:job-id",
              "cirunners:repository",
              "cirunners:warm",
              "Name",
            ],
          },
        },
      });
      assert.equal(bySid.WriteRunnerConfigs.Resource, `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PREFIX}/*`);
      assert.equal(
        bySid.ReadGitHubAppKey.Resource,
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirunners/dev/github-app/private-key`,
      );
      // AMI parameters: AWS's public ones have no account in the ARN; a private one does. Pinned ids need none.
      assert.deepEqual([...list(bySid.ResolveAmiParameters.Resource)].sort(), [
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${GOLDEN}`,
        `arn:aws:ssm:${REGION}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64`,
        `arn:aws:ssm:${REGION}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`,
        `arn:aws:ssm:${REGION}::parameter${UBUNTU}`,
      ]);
      assert.deepEqual(bySid.ResolveAmiParameters.Action, ["ssm:GetParameters"]);
      assert.equal(
        bySid.CreateSpotServiceLinkedRole.Condition!.StringEquals["iam:AWSServiceName"],
        "spot.amazonaws.com",
      );
      for (const s of statements.filter((x) => x.Resource === "*")) {
        assert.ok(
          list(s.Action).every((a) => a.startsWith("ec2:Describe")),
          `${s.Sid} uses "*" for an action with resource-level permissions`,
        );
      }
    });

    it("tells the launcher its pools with their launch template ids, subnets, prefix and runner group", async () => {
      const env = built.named("aws:lambda/function:Function", "runners-launcher").inputs.environment.variables;
      const templates = built.byType("aws:ec2/launchTemplate:LaunchTemplate");
      const pools = JSON.parse(env.CIRUNNERS_POOLS);
      assert.equal(pools.length, 5);
      for (const pool of pools) {
        assert.equal(pool.launchTemplateId, templates.find((t) => t.name === `runners-${pool.name}`)!.state.id);
      }
      assert.deepEqual(pools[0].labels, ["self-hosted", "linux", "x64"]);
      assert.deepEqual(JSON.parse(env.CIRUNNERS_SUBNET_IDS), SUBNETS);
      assert.equal(env.CIRUNNERS_JOB_QUEUE_URL, undefined, "the event source mapping hands the launcher its jobs");
      assert.equal(env.CIRUNNERS_RUNNER_PARAMETER_PREFIX, PREFIX);
      assert.equal(env.CIRUNNERS_STACK, "dev");
      assert.equal(env.CIRUNNERS_APP_ID, "1048576");
      assert.equal(env.CIRUNNERS_APP_PRIVATE_KEY_PARAMETER, "/cirunners/dev/github-app/private-key");
      assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "org");
      assert.equal(env.CIRUNNERS_GITHUB_OWNER, "acme-platform");
      assert.equal(env.CIRUNNERS_GITHUB_API_URL, "https://api.github.com");
      const runnerGroupId = await outputValue<number>(built.component.ingress.runnerGroupId!);
      assert.equal(env.CIRUNNERS_RUNNER_GROUP_ID, String(runnerGroupId));
      // The handlers name their Logger and Metrics in code (runtime/shared/lambda.ts): no Powertools variables.
      assert.equal(env.POWERTOOLS_SERVICE_NAME, undefined);
    });

    it("schedules the reaper, the runner cache and the warm pool with a dead-letter queue each", () => {
      const expected: Record<string, string> = {
        "runners-reaper": "rate(3 minutes)",
        "runners-runner-cache": runners.RUNNER_CACHE_SCHEDULE,
        "runners-warm-pool": runners.WARM_POOL_SCHEDULE,
      };
      for (const [name, expression] of Object.entries(expected)) {
        const fn = built.named("aws:lambda/function:Function", name);
        const dlq = built.named("aws:sqs/queue:Queue", `${name}-dlq`);
        const schedule = built.named("aws:scheduler/schedule:Schedule", name);
        const scheduleRole = built.named("aws:iam/role:Role", `${name}-schedule`);

        assert.equal(dlq.inputs.sqsManagedSseEnabled, true, `${name}: encrypted dead-letter queue`);
        assert.deepEqual(
          fn.inputs.deadLetterConfig,
          { targetArn: dlq.state.arn },
          `${name}: async failures go to the DLQ`,
        );
        const fnStatements = rolePolicy(built.children, built.named("aws:iam/role:Role", name));
        assertNoWildcardActions(fnStatements);
        assert.ok(
          fnStatements.some((s) => list(s.Action).join() === "sqs:SendMessage" && s.Resource === dlq.state.arn),
          `${name}: the function may send to its DLQ`,
        );

        assert.equal(schedule.inputs.scheduleExpression, expression);
        assert.deepEqual(schedule.inputs.flexibleTimeWindow, { mode: "OFF" });
        assert.equal(schedule.inputs.target.arn, fn.state.arn);
        assert.equal(schedule.inputs.target.roleArn, scheduleRole.state.arn);
        assert.deepEqual(schedule.inputs.target.deadLetterConfig, { arn: dlq.state.arn });
        assert.ok(schedule.inputs.target.retryPolicy.maximumRetryAttempts >= 0);

        const trust = JSON.parse(scheduleRole.inputs.assumeRolePolicy).Statement[0];
        assert.deepEqual(trust.Principal, { Service: "scheduler.amazonaws.com" });
        assert.deepEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
        assert.deepEqual(rolePolicy(built.children, scheduleRole), [
          { Sid: "InvokeTarget", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: fn.state.arn },
          { Sid: "SendUndeliverableEvents", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: dlq.state.arn },
        ]);
      }
    });

    it("scopes the reaper to this stack's instances and JIT parameters", () => {
      const statements = rolePolicy(built.children, built.named("aws:iam/role:Role", "runners-reaper"));
      const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
      assert.equal(bySid.DescribeInstances.Resource, "*");
      assert.deepEqual(bySid.TerminateOwnInstances.Condition, {
        StringEquals: { "aws:ResourceTag/cirunners:stack": "dev" },
      });
      assert.deepEqual(bySid.ListRunnerConfigs.Resource, [
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PREFIX}`,
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PREFIX}/*`,
      ]);
      assert.deepEqual(bySid.DeleteLeftoverRunnerConfigs.Action, ["ssm:DeleteParameters"]);
      const env = built.named("aws:lambda/function:Function", "runners-reaper").inputs.environment.variables;
      assert.equal(env.CIRUNNERS_BOOT_GRACE_MINUTES, "9");
      assert.equal(env.CIRUNNERS_MAX_JOB_HOURS, "6");
      assert.equal(env.CIRUNNERS_RUNNER_PARAMETER_PREFIX, PREFIX);
    });

    it("lets the runner cache write only below actions-runner/ in its bucket", () => {
      const bucket = built.named("aws:s3/bucket:Bucket", "runners-runner-cache");
      const statements = rolePolicy(built.children, built.named("aws:iam/role:Role", "runners-runner-cache"));
      const write = statements.find((s) => s.Sid === "ReadWriteRunnerBinaryCache")!;
      assert.equal(write.Resource, `${bucket.state.arn}/actions-runner/*`);
      const env = built.named("aws:lambda/function:Function", "runners-runner-cache").inputs.environment.variables;
      assert.equal(env.CIRUNNERS_RUNNER_CACHE_BUCKET, bucket.state.bucket);
      assert.equal(env.CIRUNNERS_RUNNER_VERSION, "latest");
      assert.deepEqual(
        [...new Set(JSON.parse(env.CIRUNNERS_POOLS).map((p: { architecture: string }) => p.architecture))].sort(),
        ["arm64", "x64"],
      );
      // The release is read with the App's installation token (organization scope), so it may read the App key.
      assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "org");
      assert.ok(env.CIRUNNERS_APP_ID && env.CIRUNNERS_APP_PRIVATE_KEY_PARAMETER);
      const key = statements.find((s) => s.Sid === "ReadGitHubAppKey")!;
      assert.deepEqual(key.Action, ["ssm:GetParameter"]);
      assert.match(
        String(key.Resource),
        new RegExp(`^arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${env.CIRUNNERS_APP_PRIVATE_KEY_PARAMETER}$`),
      );
    });

    it("gives the warm pool its schedules and the launch permissions", () => {
      const env = built.named("aws:lambda/function:Function", "runners-warm-pool").inputs.environment.variables;
      assert.deepEqual(JSON.parse(env.CIRUNNERS_WARM_POOLS), [
        {
          pool: "linux-x64",
          size: 2,
          days: ["mon", "tue", "wed", "thu", "fri"],
          startHour: 7,
          endHour: 19,
          timezone: "Europe/Berlin",
        },
      ]);
      assert.ok(
        JSON.parse(env.CIRUNNERS_POOLS).every((p: { launchTemplateId?: string }) =>
          p.launchTemplateId?.startsWith("lt-"),
        ),
      );
      const statements = rolePolicy(built.children, built.named("aws:iam/role:Role", "runners-warm-pool"));
      assert.ok(statements.some((s) => s.Sid === "LaunchFromPoolTemplates"));
      assert.ok(!statements.some((s) => s.Sid === "ConsumeJobQueue"), "the warm pool does not consume jobs");
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
      const { runnerCacheBucketName } = await import("../../program/ephemeral-runners/runner-cache-bucket");
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
        recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs")!.state.arn,
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
      const { byType, component, children, named } = await build("plain", {
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
        const { parse } = await import("yaml");
        const { readFileSync } = await import("node:fs");
        const file = parse(readFileSync(`${__dirname}/../../Pulumi.${stack}.yaml`, "utf8")).config as Record<
          string,
          unknown
        >;
        const raw = Object.fromEntries(
          Object.entries(file)
            .filter(([k]) => k.startsWith("cirunners:"))
            .map(([k, v]) => [k.slice("cirunners:".length), v]),
        );
        const { config, byType, component } = await build(`stack${stack}`, raw, stack);
        const templates = byType("aws:ec2/launchTemplate:LaunchTemplate");
        assert.deepEqual(
          templates.map((t) => t.name).sort(),
          config.runners.pools.map((p) => `stack${stack}-${p.name}`).sort(),
        );
        for (const t of templates) {
          const pool = config.runners.pools.find((p) => t.name === `stack${stack}-${p.name}`)!;
          assert.equal(t.inputs.blockDeviceMappings[0].ebs.volumeSize, pool.diskSizeGiB);
          assert.match(t.inputs.imageId, pool.architecture === "arm64" ? /arm64$/ : /x86_64$/);
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
      const { parameterArn, parameterPathArn } = await import("../../contract/arn");
      const where = { partition: "aws", region: REGION, account: ACCOUNT };
      assert.equal(parameterArn(where, "/aws/service/x"), `arn:aws:ssm:${REGION}::parameter/aws/service/x`);
      assert.equal(parameterArn(where, "/mine/x"), `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/mine/x`);
      assert.equal(
        parameterPathArn(where, "/cirunners/dev/runners/"),
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cirunners/dev/runners/*`,
      );
    });

    it("keeps the EC2 policy variable literal in the instance policy", () => {
      const [own] = policies.instanceRoleStatements({
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
      assert.deepEqual(runners.launchTemplateImage({ architecture: "arm64" }), {
        imageId: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        amiParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
      });
      assert.deepEqual(runners.launchTemplateImage({ architecture: "x64", ami: "ami-0abc12345" }), {
        imageId: "ami-0abc12345",
      });
    });
  });
});
