/**
 * The warm pool against moto (CreateFleet, SSM) and the GitHub stand-in. Schedules are built around the real
 * clock (moto stamps LaunchTime with it): "every day, all day" is inside, "not today" is outside.
 */
import { strict as assert } from "node:assert";
import {
  CreateLaunchTemplateCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { ENV, TAG } from "../../../contract/names.js";
import type { Context } from "aws-lambda";
import { WEEKDAYS } from "../../../contract/pool.js";
import { readSettings } from "../../../contract/settings.js";
import { localWeekdayAndHour } from "../../../runtime/core/warm-pool/schedule.js";
import { maintainWarmPools } from "../../../runtime/services/maintain-warm-pools.js";
import { startMoto, type MotoServer } from "../../../testkit/moto.js";
import { ROUTES, type GitHubApi } from "../../../testkit/github/server.js";
import { resetAppEnvironment, startAppEnvironment, testGitHubApp } from "../github/fixture.js";
import { useEnv } from "../../support/env.js";
import { runTaggedInstance } from "../support/tagged-instance.js";

const ORG = "acme";
const STACK = "dev";
const FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:warm-pool-dev";
const silent = { info() {}, warn() {}, error() {} };

describe("warm pool handler (moto + GitHub stand-in)", function () {
  useEnv({ POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "SILENT" });
  this.timeout(60_000);
  let moto: MotoServer;
  let github: GitHubApi;
  let warmPool: typeof import("../../../runtime/handlers/warm-pool.js");
  let launchTemplateId: string;
  let subnetId: string;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    github = await startAppEnvironment({ [ORG]: 91 });
    warmPool = await import("../../../runtime/handlers/warm-pool.js");
  });
  after(async () => {
    await github?.stop();
    await moto?.stop();
  });
  beforeEach(async () => {
    await resetAppEnvironment(moto, github);
    const ec2 = new EC2Client({});
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }));
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: "10.20.1.0/24", AvailabilityZone: "eu-west-1a" }),
    );
    subnetId = subnet.Subnet!.SubnetId!;
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `warm-${Date.now()}`,
        LaunchTemplateData: { ImageId: "ami-12345678", InstanceType: "m7i.large" },
      }),
    );
    launchTemplateId = template.LaunchTemplate!.LaunchTemplateId!;
  });

  const today = () => localWeekdayAndHour(new Date(), "UTC").weekday;
  const always = () => ({ days: [...WEEKDAYS], startHour: 0, endHour: 24, timezone: "UTC" });
  const notToday = () => ({ days: WEEKDAYS.filter((d) => d !== today()), startHour: 0, endHour: 24, timezone: "UTC" });

  function environment(warm: object[], maxRunners = 10): NodeJS.ProcessEnv {
    return {
      [ENV.pools]: JSON.stringify([
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners,
          spot: false,
          launchTemplateId,
        },
      ]),
      [ENV.subnetIds]: JSON.stringify([subnetId]),
      [ENV.runnerScope]: "org",
      [ENV.runnerGroupId]: "3",
      [ENV.githubOwner]: ORG,
      [ENV.stack]: STACK,
      [ENV.runnerParameterPrefix]: "/cirunners/dev/runners",
      [ENV.bootGraceMinutes]: "10",
      [ENV.warmPools]: JSON.stringify(warm),
    };
  }

  const dependencies = () => ({
    ec2: new EC2Client({}),
    ssm: new SSMClient({}),
    github: testGitHubApp(github.url),
    now: () => new Date(),
    log: silent,
  });

  /** The warm-pool environment a container reads from these variables (and the App's, set by the fixture). */
  const settingsOf = (env: NodeJS.ProcessEnv) =>
    warmPool.warmPoolEnvironment(readSettings("warm-pool", { ...process.env, ...env }), FUNCTION_ARN);

  async function launchExisting(runnerName: string, tags: Record<string, string> = {}): Promise<string> {
    const all = { [TAG.stack]: STACK, [TAG.pool]: "linux-x64", [TAG.runnerName]: runnerName, ...tags };
    return runTaggedInstance(all);
  }

  async function liveInstances() {
    const result = await new EC2Client({}).send(
      new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
    );
    return (result.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .map((i) => ({ id: i.InstanceId!, tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!])) }));
  }

  it("launches exactly the deficit inside the hours, then nothing while those runners boot", async () => {
    await launchExisting("linux-x64-warm-aaaaaa", { [TAG.warm]: "true" });
    github.addRunner({ name: "linux-x64-warm-aaaaaa", scope: `org:${ORG}`, status: "online" });
    const settings = settingsOf(environment([{ pool: "linux-x64", size: 3, ...always() }]));

    const [first] = await maintainWarmPools(settings, dependencies());
    assert.equal(first.withinHours, true);
    assert.equal(first.idleOnline, 1);
    assert.equal(first.requested, 2);
    assert.equal(first.launched.length, 2);
    assert.equal(github.calls[ROUTES.orgJitConfig], 2);
    const warm = (await liveInstances()).filter((i) => first.launched.includes(i.id));
    assert.equal(warm.length, 2);
    for (const instance of warm) {
      assert.equal(instance.tags[TAG.warm], "true");
      assert.equal(instance.tags[TAG.stack], STACK);
      assert.equal(instance.tags[TAG.pool], "linux-x64");
      assert.match(instance.tags[TAG.runnerName], /^linux-x64-warm-[0-9a-f]{6}$/);
    }

    const [second] = await maintainWarmPools(settings, dependencies());
    assert.deepEqual([second.idleOnline, second.booting, second.requested, second.launched.length], [1, 2, 0, 0]);
    assert.equal(github.calls[ROUTES.orgJitConfig], 2, "no new runner while two are booting");
  });

  it("caps the deficit by the pool's maxRunners", async () => {
    await launchExisting("linux-x64-1-abcdef");
    github.addRunner({ name: "linux-x64-1-abcdef", scope: `org:${ORG}`, status: "online", busy: true });
    const settings = settingsOf(environment([{ pool: "linux-x64", size: 2, ...always() }], 2));
    const [result] = await maintainWarmPools(settings, dependencies());
    assert.deepEqual([result.live, result.requested, result.launched.length], [1, 1, 1]);
  });

  it("launches nothing outside the hours and retires idle warm runners, sparing busy ones", async () => {
    const idle = await launchExisting("linux-x64-warm-aaaaaa", { [TAG.warm]: "true" });
    github.addRunner({ name: "linux-x64-warm-aaaaaa", scope: `org:${ORG}`, status: "online" });
    const busy = await launchExisting("linux-x64-warm-bbbbbb", { [TAG.warm]: "true" });
    github.addRunner({ name: "linux-x64-warm-bbbbbb", scope: `org:${ORG}`, status: "online", busy: true });
    const jobRunner = await launchExisting("linux-x64-7-cccccc");
    github.addRunner({ name: "linux-x64-7-cccccc", scope: `org:${ORG}`, status: "online" });

    const settings = settingsOf(environment([{ pool: "linux-x64", size: 3, ...notToday() }]));
    const [result] = await maintainWarmPools(settings, dependencies());
    assert.equal(result.withinHours, false);
    assert.equal(result.launched.length, 0);
    assert.equal(github.calls[ROUTES.orgJitConfig], 0);
    assert.deepEqual(result.retired, [idle]);
    const live = (await liveInstances()).map((i) => i.id).sort();
    assert.deepEqual(live, [busy, jobRunner].sort());
    assert.deepEqual([...github.runners.values()].map((r) => r.name).sort(), [
      "linux-x64-7-cccccc",
      "linux-x64-warm-bbbbbb",
    ]);
  });

  it("runs as a Lambda handler from its environment", async () => {
    Object.assign(process.env, environment([{ pool: "linux-x64", size: 1, ...always() }]));
    const results = await warmPool.handler({}, { invokedFunctionArn: FUNCTION_ARN } as Context);
    assert.equal(results[0].launched.length, 1);
  });

  it("checks the warm pools against the pools and the runner scope", () => {
    const base = environment([{ pool: "linux-x64", size: 2, ...always() }]);
    assert.equal(settingsOf(base).warmPools.length, 1);
    assert.throws(
      () => settingsOf(environment([{ pool: "gpu", size: 1, ...always() }])),
      /pool "gpu" is not in CIRUNNERS_POOLS/,
    );
    assert.throws(
      () => settingsOf(environment([{ pool: "linux-x64", size: 5, ...always() }], 4)),
      /wants 5 warm runners but maxRunners is 4/,
    );
    assert.throws(
      () => settingsOf({ ...base, [ENV.runnerScope]: "repo" }),
      /warm pools need CIRUNNERS_RUNNER_SCOPE "org"/,
    );
    assert.throws(() => settingsOf({ ...base, [ENV.warmPools]: "" }), new RegExp(ENV.warmPools));
  });
});
