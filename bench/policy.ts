// Benchmark of the policy pack's offline evaluation (policy/evaluate.ts) over large synthetic stacks.
// Not a test. Run: npx tsx bench/policy.ts [sizes...]   (default 1000 10000 50000)
import { startPackLikeCli } from "../policy/dev/start-pack";
import { type EvalResource, evaluate, UNKNOWN } from "../policy/evaluate";

export interface PolicyBenchResult {
  size: number;
  /** Warm: the median of `warmRuns` evaluations after a first evaluation of the same stack. */
  seconds: number;
  resourcesPerSecond: number;
  /** The first evaluation at this size (JIT still compiling the shapes of a stack this size). */
  firstRunSeconds: number;
  firstRunResourcesPerSecond: number;
  warmRuns: number;
  violations: number;
}

const STACK = "urn:pulumi:bench::cirunners";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";

function resource(
  type: string,
  name: string,
  props: Record<string, unknown>,
  extra: Partial<EvalResource> = {},
): EvalResource {
  return { type, name, urn: `${STACK}::${type}::${name}`, props, ...extra };
}

/**
 * A realistic mix, repeated until `size` resources: a Lambda role with an inline policy and a managed-policy
 * attachment, a customer managed policy, a runner launch template, a queue, a function with its log group,
 * an EventBridge permission and (every other unit) a failure destination, a bucket with its public access
 * block, and a GitHub OIDC deploy role. About one unit in ten carries a violation; some values are unknown,
 * as during a preview.
 */
export function syntheticStack(size: number): EvalResource[] {
  const out: EvalResource[] = [];
  for (let i = 0; out.length < size; i++) {
    const bad = i % 10 === 0;
    const fnName = `worker-${i}-a1b2c3`;
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const role = resource("aws:iam/role:Role", `worker-${i}-role`, {
      assumeRolePolicy: trust,
      inlinePolicies: [
        {
          name: "queue",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "Queue",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs-${i}`,
              },
              {
                Sid: "Telemetry",
                Effect: "Allow",
                Action: ["cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                Resource: "*",
              },
              ...(bad
                ? [{ Sid: "Launch", Effect: "Allow", Action: ["ec2:RunInstances", "ec2:CreateTags"], Resource: "*" }]
                : []),
            ],
          }),
        },
      ],
      tags: { component: "workers" },
    });
    const fnResource = resource("aws:lambda/function:Function", `worker-${i}`, {
      name: fnName,
      arn: i % 3 === 0 ? UNKNOWN : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fnName}`,
      role: UNKNOWN,
      runtime: "nodejs22.x",
      handler: "index.handler",
      memorySize: 256,
      timeout: 30,
      environment: { variables: { QUEUE_URL: UNKNOWN, LOG_LEVEL: "INFO" } },
      ...(i % 4 === 1 ? { deadLetterConfig: { targetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dlq-${i}` } } : {}),
    });
    const bucket = resource("aws:s3/bucket:Bucket", `artifacts-${i}`, {
      bucket: i % 2 === 0 ? UNKNOWN : `artifacts-${i}-x9y8`,
      forceDestroy: false,
      tags: { component: "artifacts" },
    });
    out.push(
      role,
      resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", `worker-${i}-basic`, {
        role: `worker-${i}-role`,
        policyArn: bad
          ? "arn:aws:iam::aws:policy/AmazonS3FullAccess"
          : "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      }),
      resource("aws:iam/policy:Policy", `scale-up-${i}`, {
        policy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ec2:DescribeInstances", "ec2:DescribeLaunchTemplates", "ssm:DescribeParameters"],
              Resource: "*",
            },
            {
              Effect: "Allow",
              Action: "ec2:CreateFleet",
              Resource: [`arn:aws:ec2:${REGION}:${ACCOUNT}:fleet/*`, UNKNOWN],
            },
            {
              Effect: "Allow",
              Action: "iam:PassRole",
              Resource: `arn:aws:iam::${ACCOUNT}:role/runner-${i}`,
              Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
            },
            i % 7 === 0
              ? UNKNOWN
              : {
                  Effect: "Allow",
                  Action: ["ssm:GetParameter", "ssm:DeleteParameter"],
                  Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/runners/*`,
                },
          ],
        },
      }),
      resource("aws:ec2/launchTemplate:LaunchTemplate", `runner-${i}`, {
        imageId: UNKNOWN,
        instanceInitiatedShutdownBehavior: bad ? "stop" : "terminate",
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        networkInterfaces: [{ associatePublicIpAddress: "false", securityGroups: [UNKNOWN] }],
        blockDeviceMappings: [
          { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", volumeSize: 40 } },
        ],
        tags: { component: "runners" },
      }),
      resource("aws:sqs/queue:Queue", `jobs-${i}`, {
        sqsManagedSseEnabled: !bad,
        visibilityTimeoutSeconds: 60,
        redrivePolicy: UNKNOWN,
      }),
      fnResource,
      resource("aws:cloudwatch/logGroup:LogGroup", `worker-${i}-logs`, {
        name: `/aws/lambda/${fnName}`,
        retentionInDays: 30,
      }),
      resource("aws:lambda/permission:Permission", `worker-${i}-events`, {
        action: "lambda:InvokeFunction",
        function: fnName,
        principal: "events.amazonaws.com",
        sourceArn: UNKNOWN,
      }),
      ...(i % 2 === 0
        ? [
            resource(
              "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
              `worker-${i}-eic`,
              { functionName: UNKNOWN, destinationConfig: { onFailure: { destination: UNKNOWN } } },
              { propertyDependencies: { functionName: [fnResource.urn] } },
            ),
          ]
        : []),
      bucket,
      resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        `artifacts-${i}-pab`,
        {
          bucket: UNKNOWN,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        { propertyDependencies: { bucket: [bucket.urn] } },
      ),
      resource("aws:iam/role:Role", `deploy-${i}`, {
        assumeRolePolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: UNKNOWN },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
                StringLike: {
                  "token.actions.githubusercontent.com:sub": bad
                    ? "repo:acme/*"
                    : `repo:acme/app-${i}:ref:refs/heads/main`,
                },
              },
            },
          ],
        },
      }),
    );
  }
  return out.slice(0, size);
}

/**
 * Cold start of the pack as the Pulumi CLI starts it (run-policy-pack, ts-node type-checking against the pack's
 * tsconfig, an empty ts-node cache): milliseconds until the analyzer listens.
 */
export async function benchPackColdStart(): Promise<{ coldStartMs: number }> {
  const started = await startPackLikeCli(undefined, { coldCache: true });
  started.child.kill();
  return { coldStartMs: started.startMs };
}

async function timed(stack: EvalResource[]): Promise<{ seconds: number; violations: number }> {
  const start = process.hrtime.bigint();
  const violations = await evaluate(stack);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, violations: violations.length };
}

/**
 * Evaluates the full pack over synthetic stacks of the given sizes, after a warm-up. Per size: one first
 * evaluation (reported as firstRun), then several evaluations of the same stack, whose median is the throughput. Caches keyed by props objects do not carry over between runs (each run
 * deserialises the props afresh, as the engine does); AWS's IAM data and pattern expansions do, as in a real
 * process after its first stack. The code is the TypeScript sources run through tsx (esbuild, keepNames), as the
 * tests run them; the Pulumi CLI compiles the pack with ts-node (tsc), which emits no name helpers.
 */
export async function benchPolicyEvaluation(sizes: number[] = [1000, 10000, 50000]): Promise<PolicyBenchResult[]> {
  // Warm-up of the same shape: module loading, AWS's IAM data for the stack's services, and enough resources
  // (2 x 10,000) for the JIT to optimise the hot paths. Without it a 1,000-resource run measures V8's baseline
  // tiers, not the pack (about 4x slower per resource), and throughput appears to rise with the stack size.
  for (let i = 0; i < 2; i++) await evaluate(syntheticStack(10_000));
  const results: PolicyBenchResult[] = [];
  for (const size of sizes) {
    const stack = syntheticStack(size);
    const first = await timed(stack);
    // At least 3 runs and 20,000 resources per size: a small stack's run is short enough for one garbage
    // collection of the previous runs' heap, or another process on the machine, to double it.
    const warmRuns = Math.max(3, Math.ceil(20_000 / size));
    const warm: number[] = [];
    for (let i = 0; i < warmRuns; i++) warm.push((await timed(stack)).seconds);
    warm.sort((a, b) => a - b);
    const seconds = warm[Math.floor(warm.length / 2)];
    results.push({
      size,
      seconds: Number(seconds.toFixed(4)),
      resourcesPerSecond: Math.round(size / seconds),
      firstRunSeconds: Number(first.seconds.toFixed(4)),
      firstRunResourcesPerSecond: Math.round(size / first.seconds),
      warmRuns,
      violations: first.violations,
    });
  }
  return results;
}

if (require.main === module) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  benchPolicyEvaluation(sizes.length > 0 ? sizes : undefined)
    .then((results) => {
      console.log("size      warm s    warm res/s    first s   first res/s   violations");
      for (const r of results) {
        console.log(
          `${String(r.size).padEnd(9)} ${r.seconds.toFixed(3).padEnd(9)} ${String(r.resourcesPerSecond).padEnd(13)} ` +
            `${r.firstRunSeconds.toFixed(3).padEnd(9)} ${String(r.firstRunResourcesPerSecond).padEnd(13)} ${r.violations}`,
        );
      }
      const perResource = results.map((r) => r.seconds / r.size);
      const spread = Math.max(...perResource) / Math.min(...perResource);
      console.log(
        `warm per-resource cost spread across sizes: ${spread.toFixed(2)}x (linear scaling keeps this near 1)`,
      );
      return benchPackColdStart().then((cold) => {
        console.log(`cold start of the pack (run-policy-pack, ts-node, empty cache): ${cold.coldStartMs} ms`);
        console.log(JSON.stringify({ benchmark: "policy-evaluation", results, ...cold }));
      });
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
