import { strict as assert } from "node:assert";
import type { GitHubConfig, RunnersConfig } from "../../program/config";
import { descendantsOf, type RecordedResource } from "../../testkit/pulumi-mocks";

type IngressModule = typeof import("../../program/ephemeral-runners/ingress");

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
/** The ledger as EphemeralRunners hands it over: a table name and the webhook's statements on it. */
const LEDGER_TABLE = "runners-ledger-test";
const LEDGER_STATEMENT = {
  Sid: "JobLedgerItems",
  Effect: "Allow" as const,
  Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
  Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${LEDGER_TABLE}`,
};
const ledger = { tableName: LEDGER_TABLE, statements: [LEDGER_STATEMENT] };

const runners: RunnersConfig = {
  pools: [
    {
      name: "linux-x64",
      labels: ["self-hosted", "linux", "x64"],
      instanceTypes: ["m7i.large"],
      architecture: "x64",
      diskSizeGiB: 40,
      maxRunners: 10,
      spot: true,
      image: "stock",
      docker: true,
      sudo: false,
    },
    {
      name: "linux-arm64",
      labels: ["self-hosted", "linux", "arm64"],
      instanceTypes: ["m7g.large"],
      architecture: "arm64",
      diskSizeGiB: 40,
      maxRunners: 5,
      spot: false,
      image: "stock",
      docker: true,
      sudo: false,
    },
  ],
  launcher: { batchSize: 10, maxConcurrency: 5, maxReceiveCount: 4, timeoutSeconds: 45 },
  bootGraceMinutes: 10,
  maxJobHours: 6,
  runnerVersion: "latest",
  reaperSchedule: "rate(5 minutes)",
};

function githubConfig(overrides: Partial<GitHubConfig> = {}): GitHubConfig {
  return {
    owner: "acme-platform",
    scope: "org",
    repositories: [],
    appId: 1048576,
    appPrivateKeyParameter: "/cirunners/test/github-app/private-key",
    runnerGroup: "ephemeral-test",
    apiUrl: "https://api.github.com",
    ...overrides,
  };
}

/** Pulumi's wire form of a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function secretValue(input: any): unknown {
  assert.ok(
    input && typeof input === "object" && SECRET_SIG in input,
    `expected a secret value, found ${JSON.stringify(input)}`,
  );
  return input.value;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

describe("WebhookIngress", () => {
  let recorded: RecordedResource[];
  let outputValue: <T>(o: any) => Promise<T>;
  let ingress: IngressModule;
  const repositoryLookups: string[] = [];

  before(async () => {
    const mocks = await import("../../testkit/pulumi-mocks");
    const installed = await mocks.installMocks({ region: REGION, stack: "test" });
    recorded = installed.recorded;
    outputValue = mocks.outputValue as any;
    // The shared mocks do not answer github.getRepository (used for runner groups restricted to repositories).
    const call = installed.mocks.call.bind(installed.mocks);
    installed.mocks.call = (args) => {
      if (args.token !== "github:index/getRepository:getRepository") return call(args);
      repositoryLookups.push(args.inputs.fullName);
      const name = String(args.inputs.fullName).split("/")[1];
      return { id: name, fullName: args.inputs.fullName, name, repoId: 1000 + name.length, nodeId: `R_${name}` };
    };
    ingress = await import("../../program/ephemeral-runners/ingress");
  });

  const childrenOf = (urn: string) => descendantsOf(recorded, urn);

  async function build(name: string, github: GitHubConfig, extra: { alarmTopicArn?: string } = {}) {
    const component = new ingress.WebhookIngress(name, {
      stack: "test",
      github,
      runners,
      ledger,
      logRetentionDays: 14,
      tags: { project: "cirunners" },
      ...extra,
    });
    const [urn, webhookUrl, runnerGroupId] = await Promise.all([
      outputValue<string>(component.urn),
      outputValue<string>(component.webhookUrl),
      component.runnerGroupId ? outputValue<number>(component.runnerGroupId) : Promise.resolve(undefined),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const children = childrenOf(urn);
    const ofType = (type: string) => children.filter((r) => r.type === type);
    const one = (type: string) => {
      const found = ofType(type);
      assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
      return found[0];
    };
    return { component, urn, webhookUrl, runnerGroupId, children, ofType, one };
  }

  describe("org scope", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
      built = await build("ingress", githubConfig(), { alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts` });
    });

    const queues = () => {
      const all = built.ofType("aws:sqs/queue:Queue");
      assert.equal(all.length, 2);
      const jobs = all.find((q) => !q.name.endsWith("dlq"));
      const dlq = all.find((q) => q.name.endsWith("dlq"));
      assert.ok(jobs && dlq);
      return { jobs, dlq };
    };

    it("routes POST /github/webhook to the function with a Lambda proxy integration (payload 2.0)", () => {
      const api = built.one("aws:apigatewayv2/api:Api");
      assert.equal(api.inputs.protocolType, "HTTP");
      const route = built.one("aws:apigatewayv2/route:Route");
      const integration = built.one("aws:apigatewayv2/integration:Integration");
      const fn = built.one("aws:lambda/function:Function");
      assert.equal(route.inputs.routeKey, "POST /github/webhook");
      assert.equal(route.inputs.apiId, api.state.id);
      assert.equal(route.inputs.target, `integrations/${integration.state.id}`);
      assert.equal(integration.inputs.integrationType, "AWS_PROXY");
      assert.equal(integration.inputs.payloadFormatVersion, "2.0");
      assert.equal(integration.inputs.integrationUri, fn.state.arn);
      assert.ok(integration.inputs.timeoutMilliseconds < 10_000, "answers before GitHub's 10 s");
    });

    it("deploys the $default stage with throttling and access logs kept for the retention", () => {
      const stage = built.one("aws:apigatewayv2/stage:Stage");
      assert.equal(stage.inputs.name, "$default");
      assert.equal(stage.inputs.autoDeploy, true);
      assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 200, throttlingRateLimit: 100 });
      const accessLogs = built
        .ofType("aws:cloudwatch/logGroup:LogGroup")
        .find((g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn);
      assert.ok(accessLogs, "access logs go to a log group of the component");
      assert.equal(accessLogs.inputs.retentionInDays, 14);
      const format = JSON.parse(stage.inputs.accessLogSettings.format);
      assert.equal(format.status, "$context.status");
      assert.equal(format.requestId, "$context.requestId");
      for (const group of built.ofType("aws:cloudwatch/logGroup:LogGroup"))
        assert.equal(group.inputs.retentionInDays, 14, group.name);
    });

    it("lets only this API's webhook route invoke the function", () => {
      const permission = built.one("aws:lambda/permission:Permission");
      const api = built.one("aws:apigatewayv2/api:Api");
      const fn = built.one("aws:lambda/function:Function");
      assert.equal(permission.inputs.action, "lambda:InvokeFunction");
      assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
      assert.equal(permission.inputs.function, fn.state.name);
      assert.equal(permission.inputs.sourceArn, `${api.state.executionArn}/*/POST/github/webhook`);
    });

    it("makes the job queue FIFO, encrypted, without delay, deduplicated per job by delivery id", () => {
      const { jobs } = queues();
      assert.equal(jobs.inputs.fifoQueue, true);
      assert.equal(jobs.state.name.endsWith(".fifo"), true);
      assert.equal(jobs.inputs.sqsManagedSseEnabled, true);
      assert.equal(jobs.inputs.delaySeconds, 0);
      assert.equal(jobs.inputs.contentBasedDeduplication, false);
      assert.equal(jobs.inputs.deduplicationScope, "messageGroup");
      assert.equal(jobs.inputs.fifoThroughputLimit, "perMessageGroupId");
    });

    it("sets the visibility timeout to six times the launcher's timeout", () => {
      assert.equal(queues().jobs.inputs.visibilityTimeoutSeconds, 6 * 45);
    });

    it("redrives to an encrypted FIFO dead-letter queue after maxReceiveCount, kept 14 days", () => {
      const { jobs, dlq } = queues();
      assert.deepEqual(JSON.parse(jobs.inputs.redrivePolicy), {
        deadLetterTargetArn: dlq.state.arn,
        maxReceiveCount: 4,
      });
      assert.equal(dlq.inputs.fifoQueue, true);
      assert.equal(dlq.state.name.endsWith(".fifo"), true);
      assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
      assert.equal(dlq.inputs.messageRetentionSeconds, 14 * 86400);
    });

    it("alarms when the dead-letter queue holds a message, notifying the topic", () => {
      const alarm = built.one("aws:cloudwatch/metricAlarm:MetricAlarm");
      const { dlq } = queues();
      assert.equal(alarm.inputs.namespace, "AWS/SQS");
      assert.equal(alarm.inputs.metricName, "ApproximateNumberOfMessagesVisible");
      assert.deepEqual(alarm.inputs.dimensions, { QueueName: dlq.state.name });
      assert.equal(alarm.inputs.comparisonOperator, "GreaterThanThreshold");
      assert.equal(alarm.inputs.threshold, 0);
      assert.deepEqual(alarm.inputs.alarmActions, [`arn:aws:sns:${REGION}:${ACCOUNT}:alerts`]);
    });

    it("stores a generated 40-character secret as a SecureString under /cirunners/<stack>/webhook-secret", () => {
      const password = built.one("random:index/randomPassword:RandomPassword");
      assert.equal(password.inputs.length, 40);
      const parameter = built.one("aws:ssm/parameter:Parameter");
      assert.equal(parameter.inputs.name, "/cirunners/test/webhook-secret");
      assert.equal(parameter.inputs.type, "SecureString");
      assert.equal(
        secretValue(parameter.inputs.value),
        password.state.result,
        "the value is the password, kept secret",
      );
    });

    it("gives the function only sqs:SendMessage on this queue, ssm:GetParameter on the secret, the ledger statements it is handed and its own logs", () => {
      const policy = built.one("aws:iam/rolePolicy:RolePolicy");
      const statements = JSON.parse(policy.inputs.policy).Statement as Statement[];
      const { jobs } = queues();
      const parameter = built.one("aws:ssm/parameter:Parameter");
      const fnLogs = built
        .ofType("aws:cloudwatch/logGroup:LogGroup")
        .find((g) => g.inputs.name.startsWith("/aws/lambda/"));
      assert.ok(fnLogs);
      const grants = statements.flatMap((s) => {
        assert.equal(s.Effect, "Allow");
        const actions = [s.Action].flat();
        const resources = [s.Resource].flat();
        return actions.flatMap((a) => resources.map((r) => `${a} ${r}`));
      });
      assert.deepEqual(grants.sort(), [
        `dynamodb:GetItem ${LEDGER_STATEMENT.Resource}`,
        `dynamodb:PutItem ${LEDGER_STATEMENT.Resource}`,
        `dynamodb:UpdateItem ${LEDGER_STATEMENT.Resource}`,
        `logs:CreateLogStream ${fnLogs.state.arn}:*`,
        `logs:PutLogEvents ${fnLogs.state.arn}:*`,
        `sqs:SendMessage ${jobs.state.arn}`,
        `ssm:GetParameter ${parameter.state.arn}`,
      ]);
    });

    it("configures the function: arm64 Node 22, 256 MiB, a short timeout, pools and names in its environment", () => {
      const fn = built.one("aws:lambda/function:Function");
      const { jobs } = queues();
      assert.equal(fn.inputs.memorySize, 256);
      assert.ok(fn.inputs.timeout <= 10);
      assert.deepEqual(fn.inputs.architectures, ["arm64"]);
      assert.equal(fn.inputs.runtime, "nodejs22.x");
      const env = fn.inputs.environment.variables;
      assert.deepEqual(JSON.parse(env.CIRUNNERS_POOLS), [
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 10,
          spot: true,
        },
        {
          name: "linux-arm64",
          labels: ["self-hosted", "linux", "arm64"],
          instanceTypes: ["m7g.large"],
          architecture: "arm64",
          maxRunners: 5,
          spot: false,
        },
      ]);
      assert.equal(env.CIRUNNERS_JOB_QUEUE_URL, jobs.state.url);
      assert.equal(env.CIRUNNERS_WEBHOOK_SECRET_PARAMETER, "/cirunners/test/webhook-secret");
      assert.equal(env.CIRUNNERS_LEDGER_TABLE, LEDGER_TABLE);
      assert.equal(env.CIRUNNERS_GITHUB_OWNER, "acme-platform");
      assert.equal(env.CIRUNNERS_RUNNER_SCOPE, "org");
      assert.equal(env.CIRUNNERS_REPOSITORIES, "[]", "one organization hook serves every repository");
      assert.deepEqual(
        Object.keys(env).filter((name) => name.startsWith("POWERTOOLS_")),
        [],
        "the handler names its Logger and Metrics in code",
      );
    });

    it("creates the organization webhook for workflow_job, JSON, with the secret and the API URL", () => {
      const hook = built.one("github:index/organizationWebhook:OrganizationWebhook");
      const api = built.one("aws:apigatewayv2/api:Api");
      const password = built.one("random:index/randomPassword:RandomPassword");
      assert.deepEqual(hook.inputs.events, ["workflow_job"]);
      assert.equal(hook.inputs.active, true);
      // The configuration holds the secret, so Pulumi keeps all of it secret.
      const configuration = secretValue(hook.inputs.configuration) as Record<string, unknown>;
      assert.deepEqual(configuration, {
        url: `${api.state.apiEndpoint}/github/webhook`,
        contentType: "json",
        secret: password.state.result,
        insecureSsl: false,
      });
      assert.equal(built.webhookUrl, `${api.state.apiEndpoint}/github/webhook`);
      assert.equal(built.ofType("github:index/repositoryWebhook:RepositoryWebhook").length, 0);
    });

    it("creates the runner group visible to all repositories, no public ones, and exposes its numeric id", () => {
      const group = built.one("github:index/actionsRunnerGroup:ActionsRunnerGroup");
      assert.equal(group.inputs.name, "ephemeral-test");
      assert.equal(group.inputs.visibility, "all");
      assert.equal(group.inputs.allowsPublicRepositories, false);
      assert.equal(built.runnerGroupId, Number(group.state.id));
      assert.equal(Number.isInteger(built.runnerGroupId), true);
    });

    it("parents every child to the component and tags every taggable AWS child", () => {
      for (const child of built.children.filter((c) => c.custom && c.type.startsWith("aws:") && "tags" in c.inputs)) {
        assert.deepEqual(child.inputs.tags, { project: "cirunners" }, child.type);
      }
      const untagged = built.children.filter(
        (c) =>
          c.custom &&
          [
            "aws:sqs/queue:Queue",
            "aws:ssm/parameter:Parameter",
            "aws:apigatewayv2/api:Api",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
          ].includes(c.type) &&
          !c.inputs.tags,
      );
      assert.deepEqual(untagged, []);
    });
  });

  it("org scope with repositories: the runner group is restricted to them", async () => {
    const built = await build("ingress-selected", githubConfig({ repositories: ["orders-service", "api"] }));
    const group = built.one("github:index/actionsRunnerGroup:ActionsRunnerGroup");
    assert.equal(group.inputs.visibility, "selected");
    assert.deepEqual(group.inputs.selectedRepositoryIds, [1000 + "orders-service".length, 1000 + "api".length]);
    assert.deepEqual(repositoryLookups.filter((r) => r.startsWith("acme-platform/")).sort(), [
      "acme-platform/api",
      "acme-platform/orders-service",
    ]);
  });

  it("repo scope: one repository webhook per repository, no organization webhook, no runner group", async () => {
    const built = await build(
      "ingress-repo",
      githubConfig({ scope: "repo", repositories: ["orders-service", "payments"] }),
    );
    assert.equal(built.component.runnerGroupId, undefined);
    assert.equal(built.ofType("github:index/actionsRunnerGroup:ActionsRunnerGroup").length, 0);
    assert.equal(built.ofType("github:index/organizationWebhook:OrganizationWebhook").length, 0);
    const hooks = built.ofType("github:index/repositoryWebhook:RepositoryWebhook");
    assert.deepEqual(hooks.map((h) => h.inputs.repository).sort(), ["orders-service", "payments"]);
    const api = built.one("aws:apigatewayv2/api:Api");
    for (const hook of hooks) {
      assert.deepEqual(hook.inputs.events, ["workflow_job"]);
      const configuration = secretValue(hook.inputs.configuration) as Record<string, unknown>;
      assert.equal(configuration.contentType, "json");
      assert.equal(configuration.url, `${api.state.apiEndpoint}/github/webhook`);
      assert.equal(typeof configuration.secret, "string");
    }
    // No alarm topic given: the alarm exists without actions.
    assert.deepEqual(built.one("aws:cloudwatch/metricAlarm:MetricAlarm").inputs.alarmActions ?? [], []);
  });

  it("refuses pools that do not fit in the function's environment", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      ...runners.pools[0],
      name: `pool-${i}`,
      labels: ["self-hosted", `label-${i}`, "x64", "a-rather-long-label-name"],
    }));
    assert.throws(
      () =>
        new ingress.WebhookIngress("ingress-big", {
          stack: "test",
          github: githubConfig(),
          runners: { ...runners, pools: many },
          ledger,
          logRetentionDays: 14,
        }),
      /over the 3072 that fit in the function's environment/,
    );
  });
});
