import { strict as assert } from "node:assert";
import { FUNCTION_ENTRY } from "../../contract/names";
import { descendantsOf, type RecordedResource, settleRegistrations } from "../../testkit/pulumi-mocks";
import {
  ACCOUNT,
  APP_KEY,
  environmentOf,
  grantsOf,
  named,
  REGION,
  rawConfig,
  SUBNETS,
  serviceGrants,
  stackConfig,
} from "./ledger-fixtures";

type ReconciliationModule = typeof import("../../program/ephemeral-runners/reconciliation");

const PREFIX = "/cirunners/dev/runners";

describe("JobReconciliation (reconciler and redeliver schedules)", () => {
  let recorded: RecordedResource[];
  let outputValue: <T>(o: unknown) => Promise<T>;
  let mod: ReconciliationModule;
  let pulumi: typeof import("@pulumi/pulumi");
  let aws: typeof import("@pulumi/aws");

  before(async () => {
    const mocks = await import("../../testkit/pulumi-mocks");
    ({ recorded } = await mocks.installMocks({ region: REGION, stack: "dev" }));
    outputValue = mocks.outputValue as never;
    mod = await import("../../program/ephemeral-runners/reconciliation");
    pulumi = await import("@pulumi/pulumi");
    aws = await import("@pulumi/aws");
  });

  /**
   * The component with explicit entries: the handlers' code is not under test here (their env, IAM and schedules
   * are), so any existing entry bundles in their place until FUNCTION_ENTRY names them.
   */
  async function build(name: string, raw = rawConfig(), entries?: { reconciler?: string; redeliver?: string }) {
    const { JobLedger } = await import("../../program/ephemeral-runners/job-ledger");
    const { launchEnvironment } = await import("../../program/ephemeral-runners/function-environments");
    const config = stackConfig(raw);
    const location = pulumi.output({ partition: "aws", region: REGION, account: ACCOUNT });
    const ledger = new JobLedger(`${name}-ledger`, { location });
    const jobQueue = new aws.sqs.Queue(`${name}-jobs`, { fifoQueue: true, sqsManagedSseEnabled: true });
    const hookIds = pulumi.output<Record<string, number>>({ "org:acme-platform": 4242 });
    const component = new mod.JobReconciliation(name, {
      stack: "dev",
      github: config.github,
      runners: config.runners,
      ledger,
      jobQueue,
      launchEnvironment: launchEnvironment({
        stack: "dev",
        github: config.github,
        pools: config.runners.pools,
        launchTemplateIds: { "linux-x64": "lt-1", "linux-arm64": "lt-2" },
        subnetIds: SUBNETS,
        parameterPrefix: PREFIX,
      }),
      location,
      hookIds,
      account: ACCOUNT,
      logRetentionDays: 14,
      entries: entries ?? { reconciler: FUNCTION_ENTRY.reaper, redeliver: FUNCTION_ENTRY.reaper },
    });
    const urn = await outputValue<string>(component.urn);
    await settleRegistrations(recorded);
    const children = descendantsOf(recorded, urn);
    const tableName = await outputValue<string>(ledger.tableName);
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}`;
    const queueArn = await outputValue<string>(jobQueue.arn);
    const queueUrl = await outputValue<string>(jobQueue.url);
    return { component, children, tableName, tableArn, queueArn, queueUrl };
  }

  describe("with both handlers", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
      built = await build("jobs");
    });

    it("runs the reconciler every minute and the redeliver function every five, one run at a time", () => {
      const schedule = (n: string) => named(built.children, "aws:scheduler/schedule:Schedule", n).inputs;
      assert.equal(schedule("jobs-reconciler").scheduleExpression, "rate(1 minute)");
      assert.equal(schedule("jobs-redeliver").scheduleExpression, "rate(5 minutes)");
      const fn = (n: string) => named(built.children, "aws:lambda/function:Function", n).inputs;
      assert.equal(fn("jobs-reconciler").reservedConcurrentExecutions, 1);
      assert.equal(fn("jobs-redeliver").reservedConcurrentExecutions, 1);
      assert.ok(fn("jobs-reconciler").timeout < 60, "a run ends before the next minute's");
    });

    it("tells the reconciler the launch settings, the ledger, the job queue and the boot grace", () => {
      const env = environmentOf(built.children, "jobs-reconciler");
      assert.equal(env.CIRUNNERS_LEDGER_TABLE, built.tableName);
      assert.equal(env.CIRUNNERS_JOB_QUEUE_URL, built.queueUrl);
      assert.equal(env.CIRUNNERS_BOOT_GRACE_MINUTES, "9");
      assert.equal(env.CIRUNNERS_RUNNER_PARAMETER_PREFIX, PREFIX);
      assert.deepEqual(JSON.parse(env.CIRUNNERS_SUBNET_IDS), SUBNETS);
      assert.deepEqual(
        JSON.parse(env.CIRUNNERS_POOLS).map((p: { launchTemplateId: string }) => p.launchTemplateId),
        ["lt-1", "lt-2"],
      );
      assert.equal(env.CIRUNNERS_APP_PRIVATE_KEY_PARAMETER, APP_KEY);
    });

    it("gives the reconciler the ledger query on the index, item reads and writes, requeueing and ending runners, no launch rights", () => {
      const grants = grantsOf(built.children, "jobs-reconciler");
      assert.deepEqual(serviceGrants(grants, "dynamodb"), [
        `dynamodb:GetItem ${built.tableArn}`,
        `dynamodb:Query ${built.tableArn}/index/due`,
        `dynamodb:UpdateItem ${built.tableArn}`,
      ]);
      const sqs = serviceGrants(grants, "sqs").filter((g) => !g.includes("-dlq"));
      assert.deepEqual(sqs, [`sqs:SendMessage ${built.queueArn}`]);
      assert.deepEqual(serviceGrants(grants, "ec2"), [
        "ec2:DescribeInstances *",
        `ec2:TerminateInstances arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`,
      ]);
      assert.deepEqual(serviceGrants(grants, "ssm"), [
        `ssm:GetParameter arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${APP_KEY}`,
      ]);
      assert.deepEqual(serviceGrants(grants, "iam"), [], "no iam:PassRole: it launches nothing");
      const policy = JSON.parse(
        named(built.children, "aws:iam/rolePolicy:RolePolicy", "jobs-reconciler").inputs.policy,
      );
      const terminate = policy.Statement.find((s: { Sid: string }) => s.Sid === "TerminateOwnInstances");
      assert.deepEqual(terminate.Condition, { StringEquals: { "aws:ResourceTag/cirunners:stack": "dev" } });
    });

    it("tells the redeliver function the App, the owner's targets and the hook ids by target key", () => {
      const env = environmentOf(built.children, "jobs-redeliver");
      assert.deepEqual(JSON.parse(env.CIRUNNERS_WEBHOOK_HOOK_IDS), { "org:acme-platform": 4242 });
      assert.equal(env.CIRUNNERS_REPOSITORIES, "[]");
      assert.equal(env.CIRUNNERS_GITHUB_OWNER, "acme-platform");
      assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "org");
      assert.equal(env.CIRUNNERS_APP_ID, "1048576");
      assert.equal(env.CIRUNNERS_LEDGER_TABLE, undefined);
    });

    it("lets the redeliver function read only the App key (besides its logs and dead-letter queue)", () => {
      const grants = grantsOf(built.children, "jobs-redeliver").filter(
        (g) => !g.startsWith("logs:") && !/^sqs:SendMessage .*jobs-redeliver-dlq/.test(g),
      );
      assert.deepEqual(grants, [`ssm:GetParameter arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${APP_KEY}`]);
    });
  });

  it("creates neither function while the contract names no handler for them", async () => {
    const { children, component } = await build("nojobs", rawConfig(), {});
    assert.equal(component.reconciler, undefined);
    assert.equal(component.redeliver, undefined);
    assert.equal(children.filter((r) => r.type === "aws:lambda/function:Function").length, 0);
  });

  it("follows FUNCTION_ENTRY by default", () => {
    assert.equal(mod.functionEntry("reconciler"), (FUNCTION_ENTRY as Record<string, string>).reconciler);
    assert.equal(mod.functionEntry("webhook"), FUNCTION_ENTRY.webhook);
    assert.equal(mod.functionEntry("no-such-function"), undefined);
  });
});
