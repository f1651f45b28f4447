import assert from "node:assert/strict";
import fc from "fast-check";
import { ec2Arn, iamArn, locationOfArn, parameterArn, parameterPathArn, partitionOf } from "../../contract/arn";
import { decodeJobMessage, encodeJobMessage, type JobMessage } from "../../contract/job";
import { ENV } from "../../contract/names";
import { routeJob } from "../../contract/pool";
import { installationPath, runnersPath, runnerTargetFor } from "../../contract/runner-target";
import { readSettings } from "../../contract/settings";

describe("contract: partition-aware ARNs", () => {
  it("derives the partition from the region", () => {
    assert.equal(partitionOf("eu-west-1"), "aws");
    assert.equal(partitionOf("us-gov-west-1"), "aws-us-gov");
    assert.equal(partitionOf("cn-north-1"), "aws-cn");
    assert.equal(partitionOf("us-iso-east-1"), "aws-iso");
    assert.equal(partitionOf("us-isob-east-1"), "aws-iso-b");
  });
  it("names resources in aws-us-gov and aws-cn", () => {
    const gov = { partition: "aws-us-gov", region: "us-gov-west-1", account: "123456789012" };
    assert.equal(ec2Arn(gov, "instance/*"), "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/*");
    const cn = { partition: "aws-cn", region: "cn-north-1", account: "123456789012" };
    assert.equal(
      parameterArn(cn, "/cirunners/dev/key"),
      "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/cirunners/dev/key",
    );
    assert.equal(parameterPathArn(cn, "/p/"), "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/p/*");
    assert.equal(iamArn(cn, "role/x"), "arn:aws-cn:iam::123456789012:role/x");
  });
  it("reads a function's location from its ARN and refuses one without an account", () => {
    assert.deepEqual(locationOfArn("arn:aws-cn:lambda:cn-north-1:123456789012:function:f"), {
      partition: "aws-cn",
      region: "cn-north-1",
      account: "123456789012",
    });
    assert.throws(() => locationOfArn("arn:aws:s3:::bucket"), /region and an account/);
  });
});

describe("contract: job message codec", () => {
  const login = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/);
  const message = fc.record({
    version: fc.constant(1 as const),
    deliveryId: fc.option(fc.uuid(), { nil: undefined }),
    recordVersion: fc.nat(),
    pool: fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/),
    jobId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    runId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    runAttempt: fc.integer({ min: 1, max: 100 }),
    repository: fc.tuple(login, fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/)).map(([o, r]) => `${o}/${r}`),
    owner: login,
    installationId: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
    labels: fc.array(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/), { minLength: 1, maxLength: 6 }),
    enqueuedAt: fc
      .date({ min: new Date(2020, 0, 1), max: new Date(2040, 0, 1), noInvalidDate: true })
      .map((d) => d.toISOString()),
  });

  it("decodes every body the encoder accepts to the same message", () => {
    fc.assert(
      fc.property(message, (m) => {
        const clean = JSON.parse(JSON.stringify(m)) as JobMessage;
        const body = encodeJobMessage(clean);
        assert.ok(body.ok, !body.ok ? body.reason : "");
        const decoded = decodeJobMessage(body.value);
        assert.ok(decoded.ok);
        assert.deepEqual(decoded.value, clean);
      }),
    );
  });

  it("names the field that is wrong", () => {
    const bad = decodeJobMessage(JSON.stringify({ version: 1, deliveryId: "d", recordVersion: 0 }));
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.reason.startsWith("pool:"), JSON.stringify(bad));
    const noVersion = decodeJobMessage(JSON.stringify({ version: 1, deliveryId: "d" }));
    assert.ok(!noVersion.ok && noVersion.reason.startsWith("recordVersion:"), JSON.stringify(noVersion));
    const notJson = decodeJobMessage("{");
    assert.ok(!notJson.ok && /not JSON/.test(notJson.reason));
  });
});

describe("contract: runner target", () => {
  it("asks for repo-scope installations by repository, which GitHub answers for organization-owned ones too", () => {
    const target = runnerTargetFor("repo", "acme", "acme/app");
    assert.equal(installationPath(target), "/repos/acme/app/installation");
    assert.equal(runnersPath(target), "/repos/acme/app/actions/runners");
    assert.equal(installationPath(runnerTargetFor("org", "acme", "acme/app")), "/orgs/acme/installation");
  });
});

describe("contract: pools and settings", () => {
  it("routes a job to the most specific pool whose labels include all of its labels, case-insensitively", () => {
    const pools = [{ labels: ["self-hosted", "linux", "x64", "gpu"] }, { labels: ["self-hosted", "Linux", "X64"] }];
    assert.equal(routeJob(["LINUX", "x64", "self-hosted"], pools), pools[1]);
    assert.equal(routeJob(["self-hosted"], pools), pools[1]);
    assert.equal(routeJob(["gpu"], pools), pools[0]);
    assert.equal(routeJob(["self-hosted", "arm64"], pools), undefined);
  });

  it("reads a function's settings once and names every bad variable", () => {
    const pool = { name: "p", labels: ["a"], instanceTypes: ["m7g.large"], architecture: "arm64", maxRunners: 2 };
    const settings = readSettings("webhook", {
      [ENV.pools]: JSON.stringify([pool]),
      [ENV.jobQueueUrl]: "https://sqs/queue",
      [ENV.webhookSecretArn]: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf",
      [ENV.ledgerTable]: "jobs",
      [ENV.githubOwner]: "acme",
      [ENV.repositories]: '["app","api"]',
    });
    assert.equal(settings[ENV.pools][0].spot, false);
    assert.equal(settings[ENV.runnerScope], "org");
    assert.deepEqual(settings[ENV.repositories], ["app", "api"]);
    assert.throws(
      () => readSettings("launcher", { [ENV.pools]: "[", [ENV.appId]: "x" }),
      (error: Error) =>
        /CIRUNNERS_POOLS: not valid JSON/.test(error.message) &&
        /CIRUNNERS_APP_ID/.test(error.message) &&
        /CIRUNNERS_SUBNET_IDS/.test(error.message) &&
        /CIRUNNERS_LEDGER_TABLE/.test(error.message),
    );
  });

  it("reads the redeliver function's hook ids keyed by runner target", () => {
    const env = {
      [ENV.appId]: "1",
      [ENV.appPrivateKeyParameter]: "/key",
      [ENV.githubOwner]: "acme",
      [ENV.runnerScope]: "repo",
      [ENV.repositories]: '["app"]',
      [ENV.webhookHookIds]: '{"repo:acme/app": 45}',
    };
    assert.deepEqual(readSettings("redeliver", env)[ENV.webhookHookIds], { "repo:acme/app": 45 });
    assert.throws(
      () => readSettings("redeliver", { ...env, [ENV.webhookHookIds]: '{"acme": 45, "org:acme": "45"}' }),
      /CIRUNNERS_WEBHOOK_HOOK_IDS \(org:acme\): Invalid input: expected number/,
    );
    assert.throws(
      () => readSettings("redeliver", { ...env, [ENV.webhookHookIds]: '{"acme": 45}' }),
      /CIRUNNERS_WEBHOOK_HOOK_IDS \(acme\): expected a target key/,
    );
  });

  it("gives the reconciler the launcher's settings plus the ledger, the queue and the boot grace", () => {
    assert.throws(
      () => readSettings("reconciler", {}),
      (error: Error) =>
        ["CIRUNNERS_LEDGER_TABLE", "CIRUNNERS_JOB_QUEUE_URL", "CIRUNNERS_POOLS", "CIRUNNERS_SUBNET_IDS"].every((v) =>
          error.message.includes(v),
        ),
    );
  });
});
