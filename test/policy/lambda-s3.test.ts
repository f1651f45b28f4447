import * as assert from "node:assert/strict";
import { type EvalResource, UNKNOWN } from "../../policy/evaluate";
import {
  findAsyncFunctionsWithoutFailureHandling,
  lambdaFunctionName,
  principalService,
} from "../../policy/rules/lambda";
import {
  bucketNameFromRef,
  findBucketEncryptionProblems,
  findBucketsWithoutPublicAccessBlock,
} from "../../policy/rules/s3";
import { assertNotApplicable, detail, messages, res, runPolicy } from "./helpers";

const FN = "aws:lambda/function:Function";
const PERMISSION = "aws:lambda/permission:Permission";
const EIC = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig";
const ESM = "aws:lambda/eventSourceMapping:EventSourceMapping";
const SCHEDULE = "aws:scheduler/schedule:Schedule";
const EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const NOTIFICATION = "aws:s3/bucketNotification:BucketNotification";
const ROLE = "aws:iam/role:Role";

const ARN = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;
const fn = (name: string, props: Record<string, unknown> = {}) =>
  res(FN, name, { name: `${name}-fn`, arn: ARN(`${name}-fn`), role: "arn:aws:iam::123456789012:role/r", ...props });

describe("aws-lambda-function-async-failure-destination", () => {
  const P = "aws-lambda-function-async-failure-destination";

  it("flags a function an EventBridge permission makes asynchronous when it has no DLQ/destination", async () => {
    const reaper = fn("reaper");
    const found = await messages(P, [
      reaper,
      res(PERMISSION, "reaper-events", {
        action: "lambda:InvokeFunction",
        function: "reaper-fn",
        principal: "events.amazonaws.com",
        sourceArn: "arn:aws:events:eu-west-1:123456789012:rule/x",
      }),
    ]);
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /Lambda function "reaper-fn" is invoked asynchronously by aws:lambda\/permission:Permission "reaper-events" \(principal events\.amazonaws\.com\)/,
    );
    assert.match(found[0], /deadLetterConfig\.targetArn/);
    const r = await runPolicy(P, [
      reaper,
      res(PERMISSION, "p", {
        action: "lambda:InvokeFunction",
        function: ARN("reaper-fn"),
        principal: "sns.amazonaws.com",
      }),
    ]);
    assert.equal(r.violations[0].urn, reaper.urn, "reported against the function");
    assert.equal(r.violations[0].type, FN);
  });

  it("detects SNS, S3, Scheduler principals, regional principals, Schedule/EventTarget/TopicSubscription/BucketNotification", async () => {
    const cases: EvalResource[][] = [
      [
        fn("a"),
        res(PERMISSION, "p", { action: "lambda:InvokeFunction", function: "a-fn", principal: "s3.amazonaws.com" }),
      ],
      [
        fn("a"),
        res(PERMISSION, "p", { action: "lambda:*", function: "a-fn:live", principal: "logs.eu-west-1.amazonaws.com" }),
      ],
      [
        fn("a"),
        res(SCHEDULE, "s", {
          scheduleExpression: "rate(5 minutes)",
          target: { arn: ARN("a-fn"), roleArn: "arn:aws:iam::123456789012:role/s" },
        }),
      ],
      [fn("a"), res(EVENT_TARGET, "t", { rule: "r", arn: ARN("a-fn") })],
      [
        fn("a"),
        res(SUBSCRIPTION, "sub", {
          topic: "arn:aws:sns:eu-west-1:123456789012:t",
          protocol: "lambda",
          endpoint: ARN("a-fn"),
        }),
      ],
      [
        fn("a"),
        res(NOTIFICATION, "n", {
          bucket: "b",
          lambdaFunctions: [{ lambdaFunctionArn: ARN("a-fn"), events: ["s3:ObjectCreated:*"] }],
        }),
      ],
    ];
    for (const resources of cases) {
      assert.equal((await messages(P, resources)).length, 1, JSON.stringify(resources.map((r) => r.type)));
    }
  });

  it("accepts a dead-letter config or an on-failure destination", async () => {
    assert.deepEqual(
      await messages(P, [
        fn("a", { deadLetterConfig: { targetArn: "arn:aws:sqs:eu-west-1:123456789012:dlq" } }),
        res(PERMISSION, "p", { action: "lambda:InvokeFunction", function: "a-fn", principal: "events.amazonaws.com" }),
      ]),
      [],
    );
    assert.deepEqual(
      await messages(P, [
        fn("a"),
        res(PERMISSION, "p", {
          action: "lambda:InvokeFunction",
          function: "a-fn",
          principal: "scheduler.amazonaws.com",
        }),
        res(EIC, "a-eic", {
          functionName: ARN("a-fn"),
          destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:123456789012:dlq" } },
        }),
      ]),
      [],
    );
  });

  it("an event invoke config without onFailure does not count", async () => {
    const found = await messages(P, [
      fn("a"),
      res(PERMISSION, "p", { action: "lambda:InvokeFunction", function: "a-fn", principal: "events.amazonaws.com" }),
      res(EIC, "e", {
        functionName: "a-fn",
        maximumRetryAttempts: 0,
        destinationConfig: { onSuccess: { destination: "arn:aws:sqs:eu-west-1:123456789012:ok" } },
      }),
    ]);
    assert.equal(found.length, 1);
  });

  it("synchronous sources (SQS event source mapping, API Gateway) need nothing", async () => {
    assert.deepEqual(
      await messages(P, [
        fn("webhook"),
        res(PERMISSION, "apigw", {
          action: "lambda:InvokeFunction",
          function: "webhook-fn",
          principal: "apigateway.amazonaws.com",
        }),
        res(PERMISSION, "url", { action: "lambda:InvokeFunctionUrl", function: "webhook-fn", principal: "*" }),
        fn("scale-up"),
        res(ESM, "esm", { eventSourceArn: "arn:aws:sqs:eu-west-1:123456789012:jobs", functionName: "scale-up-fn" }),
        res(PERMISSION, "from-elsewhere", {
          action: "lambda:InvokeFunction",
          function: "other-stack-fn",
          principal: "events.amazonaws.com",
        }),
      ]),
      [],
    );
  });

  it("unknown references: resolved through property dependencies; unattributable ones never produce a violation", async () => {
    const a = fn("a", { name: "a-fn", arn: UNKNOWN });
    const perm = res(
      PERMISSION,
      "p",
      { action: "lambda:InvokeFunction", function: UNKNOWN, principal: "events.amazonaws.com" },
      { propertyDependencies: { function: [a.urn] } },
    );
    assert.equal((await messages(P, [a, perm])).length, 1, "certain: the permission's function comes from fn a");
    const eic = res(
      EIC,
      "e",
      { functionName: UNKNOWN, destinationConfig: { onFailure: { destination: UNKNOWN } } },
      { propertyDependencies: { functionName: [a.urn] } },
    );
    assert.deepEqual(await messages(P, [a, perm, eic]), [], "the destination (unknown value) is set for fn a");
    const orphanEic = res(EIC, "e2", {
      functionName: UNKNOWN,
      destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:123456789012:d" } },
    });
    assert.deepEqual(
      await messages(P, [a, perm, orphanEic]),
      [],
      "a destination for an unknown function might be fn a's",
    );
    const orphanPerm = res(PERMISSION, "p2", {
      action: "lambda:InvokeFunction",
      function: UNKNOWN,
      principal: "events.amazonaws.com",
    });
    assert.deepEqual(await messages(P, [a, orphanPerm]), [], "cannot tell which function is asynchronous");
    const unknownPrincipal = res(PERMISSION, "p3", {
      action: "lambda:InvokeFunction",
      function: "a-fn",
      principal: UNKNOWN,
    });
    assert.deepEqual(await messages(P, [a, unknownPrincipal]), []);
    assert.deepEqual(
      await messages(P, [
        fn("b", { deadLetterConfig: UNKNOWN }),
        res(PERMISSION, "p", { action: "lambda:InvokeFunction", function: "b-fn", principal: "events.amazonaws.com" }),
      ]),
      [],
    );
    const sched = res(
      SCHEDULE,
      "s",
      { target: { arn: UNKNOWN, roleArn: UNKNOWN } },
      { propertyDependencies: { target: [a.urn, `${"urn:pulumi:dev::cirunners"}::${ROLE}::scheduler-role`] } },
    );
    assert.equal(
      (await messages(P, [a, res(ROLE, "scheduler-role", {}), sched])).length,
      1,
      "the Role among the target's dependencies is not a function",
    );
  });

  it("config: asyncPrincipals, exemptions; not applicable without functions", async () => {
    const a = fn("a", { tags: { "failure-handling": "none-needed" } });
    const perm = res(PERMISSION, "p", {
      action: "lambda:InvokeFunction",
      function: "a-fn",
      principal: "cognito-idp.amazonaws.com",
    });
    assert.deepEqual(await messages(P, [a, perm]), []);
    assert.equal(
      (await messages(P, [a, perm], { config: { [P]: { asyncPrincipals: ["cognito-idp.amazonaws.com"] } } })).length,
      1,
    );
    const events = res(PERMISSION, "e", {
      action: "lambda:InvokeFunction",
      function: "a-fn",
      principal: "events.amazonaws.com",
    });
    assert.deepEqual(
      await messages(P, [a, events], { config: { [P]: { exemptTags: { "failure-handling": "*" } } } }),
      [],
    );
    assert.deepEqual(
      await messages(P, [a, events], {
        config: { [P]: { exemptStackTags: { env: "dev" } } },
        stackTags: { env: "dev" },
      }),
      [],
    );
    const r = await runPolicy(P, [res(ROLE, "r", {})]);
    assertNotApplicable(r, P, /Policy only applies to resources of type 'aws:lambda\/function:Function'/);
  });

  it("helpers", () => {
    assert.equal(principalService("events.amazonaws.com"), "events");
    assert.equal(principalService("logs.eu-west-1.amazonaws.com"), "logs");
    assert.equal(principalService("sns.amazonaws.com.cn"), "sns");
    assert.equal(principalService("123456789012"), undefined);
    assert.equal(lambdaFunctionName(ARN("x")), "x");
    assert.equal(lambdaFunctionName(`${ARN("x")}:prod`), "x");
    assert.equal(lambdaFunctionName("123456789012:function:x"), "x");
    assert.equal(lambdaFunctionName("x:prod"), "x");
    assert.equal(lambdaFunctionName("arn:aws:sqs:eu-west-1:123456789012:q"), undefined);
  });

  // Scaling is measured in bench/policy.ts (timings are not asserted in tests); this checks the large-stack answer.
  it("finds every unhandled async function in a stack of 8,000 functions", () => {
    const stack = (n: number): EvalResource[] => {
      const resources: EvalResource[] = [];
      for (let i = 0; i < n; i++) {
        resources.push(fn(`f${i}`));
        resources.push(
          res(PERMISSION, `p${i}`, {
            action: "lambda:InvokeFunction",
            function: `f${i}-fn`,
            principal: "events.amazonaws.com",
          }),
        );
        if (i % 2 === 0)
          resources.push(
            res(EIC, `e${i}`, {
              functionName: `f${i}-fn`,
              destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:123456789012:d" } },
            }),
          );
      }
      return resources;
    };
    const large = stack(8_000);
    const found = findAsyncFunctionsWithoutFailureHandling(large);
    assert.equal(found.length, 4_000);
    assert.ok(
      found.every((f) => Number(/^f(\d+)$/.exec(f.fn.name)?.[1]) % 2 === 1),
      "only the functions without an invoke config",
    );
  });
});

const BUCKET = "aws:s3/bucket:Bucket";
const BUCKET_V2 = "aws:s3/bucketV2:BucketV2";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const ALL = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

describe("aws-s3-bucket-public-access-blocked", () => {
  const P = "aws-s3-bucket-public-access-blocked";

  it("flags a bucket without a public access block, reported against the bucket", async () => {
    const b = res(BUCKET, "artifacts", { bucket: "artifacts-1a2b3c" });
    const r = await runPolicy(P, [b]);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].urn, b.urn);
    assert.match(
      detail(r.violations[0]),
      /S3 bucket "artifacts-1a2b3c" \(artifacts\) has no aws:s3\/bucketPublicAccessBlock:BucketPublicAccessBlock/,
    );
  });

  it("flags a block that leaves a flag off, naming the flag", async () => {
    const found = await messages(P, [
      res(BUCKET_V2, "b", { bucket: "b-1" }),
      res(PAB, "b-pab", { bucket: "b-1", ...ALL, restrictPublicBuckets: false }),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0], /"b-pab" does not set restrictPublicBuckets to true/);
  });

  it("accepts a complete block (by name, ARN or property dependency) or an account-level block", async () => {
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: "b-1", ...ALL })]),
      [],
    );
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: "arn:aws:s3:::b-1", ...ALL })]),
      [],
    );
    const b = res(BUCKET, "b", { bucket: UNKNOWN });
    assert.deepEqual(
      await messages(P, [
        b,
        res(PAB, "pab", { bucket: UNKNOWN, ...ALL }, { propertyDependencies: { bucket: [b.urn] } }),
      ]),
      [],
    );
    assert.deepEqual(await messages(P, [res(BUCKET, "x", { bucket: "x" }), res(ACCOUNT_PAB, "account", ALL)]), []);
  });

  it("unknown values: never reports what is not certain", async () => {
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b-1" }), res(PAB, "pab", { bucket: UNKNOWN, ...ALL })]),
      [],
      "an unattributable block may be this bucket's",
    );
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "b", { bucket: "b-1" }),
        res(PAB, "pab", { bucket: "b-1", ...ALL, blockPublicAcls: UNKNOWN }),
      ]),
      [],
    );
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "b", { bucket: "b-1" }),
        res(ACCOUNT_PAB, "acct", { ...ALL, ignorePublicAcls: UNKNOWN }),
      ]),
      [],
    );
    assert.equal(
      (
        await messages(P, [
          res(BUCKET, "b", { bucket: "b-1" }),
          res(BUCKET, "c", { bucket: "c-1" }),
          res(
            PAB,
            "pab",
            { bucket: UNKNOWN, ...ALL },
            { propertyDependencies: { bucket: [`urn:pulumi:dev::cirunners::${BUCKET}::b`] } },
          ),
        ])
      ).length,
      1,
      "c has certainly none",
    );
  });

  it("exemptions and not applicable without buckets", async () => {
    const site = res(BUCKET, "public-site", { bucket: "site", tags: { public: "website" } });
    assert.deepEqual(await messages(P, [site], { config: { [P]: { exemptTags: { public: "website" } } } }), []);
    assert.deepEqual(await messages(P, [site], { config: { [P]: { exemptNamePatterns: ["public-*"] } } }), []);
    assertNotApplicable(
      await runPolicy(P, [res(ROLE, "r", {})]),
      P,
      /Policy only applies to resources of types 'aws:s3\/bucket:Bucket', 'aws:s3\/bucketV2:BucketV2'/,
    );
    assertNotApplicable(
      await runPolicy(P, [site], { config: { [P]: { exemptStackTags: { env: "*" } } }, stackTags: { env: "x" } }),
      P,
      /stack carries/,
    );
  });

  it("helpers", () => {
    assert.equal(bucketNameFromRef("arn:aws:s3:::my-bucket"), "my-bucket");
    assert.equal(bucketNameFromRef("my-bucket"), "my-bucket");
    assert.equal(findBucketsWithoutPublicAccessBlock([]).length, 0);
  });
});

describe("aws-s3-bucket-encryption", () => {
  const P = "aws-s3-bucket-encryption";

  it("accepts the default SSE-S3 and valid explicit configurations", async () => {
    assert.deepEqual(
      await messages(P, [
        res(BUCKET, "plain", { bucket: "plain" }),
        res(BUCKET, "kms", { bucket: "kms" }),
        res(SSE, "kms-sse", {
          bucket: "kms",
          rules: [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" },
              bucketKeyEnabled: true,
            },
          ],
        }),
      ]),
      [],
    );
  });

  it("flags an invalid algorithm (advisory)", async () => {
    const r = await runPolicy(P, [
      res(BUCKET, "b", { bucket: "b" }),
      res(SSE, "sse", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "DES" } }] }),
    ]);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].enforcementLevel, "advisory");
    assert.match(detail(r.violations[0]), /sseAlgorithm "DES"/);
  });

  it("requireKms: flags buckets left on SSE-S3, accepts KMS, skips unknowns", async () => {
    const config = { [P]: { requireKms: true } };
    assert.match((await messages(P, [res(BUCKET, "b", { bucket: "b" })], { config }))[0], /requires SSE-KMS/);
    assert.match(
      (
        await messages(
          P,
          [
            res(BUCKET, "b", { bucket: "b" }),
            res(SSE, "s", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
          ],
          { config },
        )
      )[0],
      /uses "AES256"/,
    );
    assert.deepEqual(
      await messages(
        P,
        [
          res(BUCKET, "b", {
            bucket: "b",
            serverSideEncryptionConfiguration: {
              rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } },
            },
          }),
        ],
        { config },
      ),
      [],
      "legacy inline configuration",
    );
    assert.deepEqual(
      await messages(
        P,
        [
          res(BUCKET, "b", { bucket: "b" }),
          res(SSE, "s", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: UNKNOWN } }] }),
        ],
        { config },
      ),
      [],
    );
    assert.deepEqual(
      await messages(P, [res(BUCKET, "b", { bucket: "b" }), res(SSE, "s", { bucket: UNKNOWN, rules: UNKNOWN })], {
        config,
      }),
      [],
    );
    assert.equal(findBucketEncryptionProblems([res(BUCKET, "b", { bucket: "b" })], { requireKms: false }).length, 0);
  });

  it("exemptions and not applicable without buckets", async () => {
    const b = res(BUCKET, "logs", { bucket: "logs" });
    assert.deepEqual(
      await messages(P, [b], { config: { [P]: { requireKms: true, exemptNamePatterns: ["logs"] } } }),
      [],
    );
    assertNotApplicable(await runPolicy(P, [res(ROLE, "r", {})]), P, /Policy only applies/);
  });
});
