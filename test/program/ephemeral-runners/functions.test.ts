/**
 * EphemeralRunners' functions: the launcher (its queue, permissions and pools), the reaper, the runner cache and
 * the warm pool, each on its schedule with a dead-letter queue.
 */
import { strict as assert } from "node:assert";
import { outputValue } from "../../../testkit/pulumi-mocks";
import { assertNoWildcardActions, list, rolePolicy } from "../support";
import {
  ACCOUNT,
  fullConfig,
  GOLDEN,
  PREFIX,
  REGION,
  SUBNETS,
  type Built,
  UBUNTU,
  useEphemeralRunners,
} from "./harness";

describe("EphemeralRunners", () => {
  const h = useEphemeralRunners();

  describe("with five pools and a warm pool", () => {
    let built: Built;
    before(async () => {
      built = await h.build("runners", fullConfig);
    });

    it("feeds the launcher from the job queue with the configured batch size and concurrency, reporting partial failures", () => {
      const esm = built.byType("aws:lambda/eventSourceMapping:EventSourceMapping");
      assert.equal(esm.length, 1);
      const launcherFn = built.named("aws:lambda/function:Function", "runners-launcher");
      const jobQueue = h.recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs");
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
      const queue = h.recorded.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "runners-ingress-jobs")!;
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
        "runners-runner-cache": h.program.runners.RUNNER_CACHE_SCHEDULE,
        "runners-warm-pool": h.program.runners.WARM_POOL_SCHEDULE,
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
  });
});
