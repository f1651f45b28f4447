/**
 * WebhookIngress's webhook function (secret, permissions, environment) and its GitHub side (organization or
 * repository webhooks, runner group) in each scope.
 */
import { strict as assert } from "node:assert";
import { grantLines, type Statement } from "../support";
import {
  type Built,
  buildOrgScope,
  githubConfig,
  LEDGER_STATEMENT,
  LEDGER_TABLE,
  ledger,
  queuesOf,
  runners,
  secretValue,
  useIngress,
} from "./harness";

describe("WebhookIngress", () => {
  const h = useIngress();

  describe("org scope", () => {
    let built: Built;
    before(async () => {
      built = await buildOrgScope(h);
    });

    it("stores a generated 40-character secret in Secrets Manager: an auto-named secret and its version", () => {
      const password = built.one("random:index/randomPassword:RandomPassword");
      assert.equal(password.inputs.length, 40);
      const secret = built.one("aws:secretsmanager/secret:Secret");
      assert.equal(secret.inputs.name, undefined, "auto-named: a deleted secret's name stays taken for a while");
      assert.equal(secret.inputs.namePrefix, undefined);
      assert.equal(secret.inputs.kmsKeyId, undefined, "the AWS managed key aws/secretsmanager");
      assert.equal(secret.inputs.recoveryWindowInDays, 0);
      assert.match(secret.inputs.description, /webhook of stack test/);
      assert.deepEqual(secret.inputs.tags, { project: "cirunners" });
      assert.ok(secret.parentUrn?.endsWith("cirunners:index:WebhookIngress::ingress"), secret.parentUrn);
      const version = built.one("aws:secretsmanager/secretVersion:SecretVersion");
      assert.equal(version.inputs.secretId, secret.state.id);
      assert.equal(secretValue(version.inputs.secretString), password.state.result, "the password, kept secret");
      assert.deepEqual(built.byType("aws:ssm/parameter:Parameter"), [], "no SSM parameter any more");
    });

    it("gives the function only sqs:SendMessage on this queue, secretsmanager:GetSecretValue on the secret, the ledger statements it is handed and its own logs", () => {
      const policy = built.one("aws:iam/rolePolicy:RolePolicy");
      const statements = JSON.parse(policy.inputs.policy).Statement as Statement[];
      const { jobs } = queuesOf(built);
      const secret = built.one("aws:secretsmanager/secret:Secret");
      const fnLogs = built
        .byType("aws:cloudwatch/logGroup:LogGroup")
        .find((g) => g.inputs.name.startsWith("/aws/lambda/"));
      assert.ok(fnLogs);
      assert.deepEqual(grantLines(statements), [
        `dynamodb:GetItem ${LEDGER_STATEMENT.Resource}`,
        `dynamodb:PutItem ${LEDGER_STATEMENT.Resource}`,
        `dynamodb:UpdateItem ${LEDGER_STATEMENT.Resource}`,
        `logs:CreateLogStream ${fnLogs.state.arn}:*`,
        `logs:PutLogEvents ${fnLogs.state.arn}:*`,
        `secretsmanager:GetSecretValue ${secret.state.arn}`,
        `sqs:SendMessage ${jobs.state.arn}`,
      ]);
      assert.ok(!policy.inputs.policy.includes("ssm:"), "no SSM action");
      assert.ok(!policy.inputs.policy.includes("kms:"), "aws/secretsmanager needs no kms: grant in the account");
    });

    it("creates the function only once the secret has its value", () => {
      const fn = built.one("aws:lambda/function:Function");
      const version = built.one("aws:secretsmanager/secretVersion:SecretVersion");
      assert.ok(fn.dependencies.includes(version.urn), fn.dependencies.join("\n"));
    });

    it("configures the function: arm64 Node 22, 256 MiB, a short timeout, pools and names in its environment", () => {
      const fn = built.one("aws:lambda/function:Function");
      const { jobs } = queuesOf(built);
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
      assert.equal(env.CIRUNNERS_WEBHOOK_SECRET_ARN, built.one("aws:secretsmanager/secret:Secret").state.arn);
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
      assert.equal(built.byType("github:index/repositoryWebhook:RepositoryWebhook").length, 0);
    });

    it("creates the runner group visible to all repositories, no public ones, and exposes its numeric id", () => {
      const group = built.one("github:index/actionsRunnerGroup:ActionsRunnerGroup");
      assert.equal(group.inputs.name, "ephemeral-test");
      assert.equal(group.inputs.visibility, "all");
      assert.equal(group.inputs.allowsPublicRepositories, false);
      assert.equal(built.runnerGroupId, Number(group.state.id));
      assert.equal(Number.isInteger(built.runnerGroupId), true);
    });
  });

  it("org scope with repositories: the runner group is restricted to them", async () => {
    const built = await h.build("ingress-selected", githubConfig({ repositories: ["orders-service", "api"] }));
    const group = built.one("github:index/actionsRunnerGroup:ActionsRunnerGroup");
    assert.equal(group.inputs.visibility, "selected");
    assert.deepEqual(group.inputs.selectedRepositoryIds, [1000 + "orders-service".length, 1000 + "api".length]);
    assert.deepEqual(h.repositoryLookups.filter((r) => r.startsWith("acme-platform/")).sort(), [
      "acme-platform/api",
      "acme-platform/orders-service",
    ]);
  });

  it("repo scope: one repository webhook per repository, no organization webhook, no runner group", async () => {
    const built = await h.build(
      "ingress-repo",
      githubConfig({ scope: "repo", repositories: ["orders-service", "payments"] }),
    );
    assert.equal(built.component.runnerGroupId, undefined);
    assert.equal(built.byType("github:index/actionsRunnerGroup:ActionsRunnerGroup").length, 0);
    assert.equal(built.byType("github:index/organizationWebhook:OrganizationWebhook").length, 0);
    const hooks = built.byType("github:index/repositoryWebhook:RepositoryWebhook");
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
        new h.program.WebhookIngress("ingress-big", {
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
