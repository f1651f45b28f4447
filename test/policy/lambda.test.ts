/**
 * aws-lambda-function-async-failure-destination: functions invoked asynchronously need a dead-letter queue or an
 * on-failure destination.
 */
import * as assert from "node:assert/strict";
import { type EvalResource, UNKNOWN } from "../../policy/evaluate";
import {
  findAsyncFunctionsWithoutFailureHandling,
  lambdaFunctionName,
  principalService,
} from "../../policy/rules/lambda";
import { assertNotApplicable, messages, res, runPolicy } from "./helpers";
import { EIC, ESM, EVENT_TARGET, FN, NOTIFICATION, PERMISSION, ROLE, SCHEDULE, SUBSCRIPTION } from "./resource-types";

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
