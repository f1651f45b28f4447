import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundleFunction } from "./bundle";
import { definedVariables, type EnvironmentVariables } from "./environment";
import { lambdaAssumeRolePolicy, policyDocument, type PolicyStatement } from "./iam";

/**
 * The archive Lambda runs: `index.mjs` (handler `index.handler`) and its chunks beside it. A promise (Pulumi's
 * `Input<Archive>`, which aws.lambda.Function's `code` takes): esbuild's plugins run only in its asynchronous API.
 */
export async function functionArchive(entry: string): Promise<pulumi.asset.AssetArchive> {
  const files = await bundleFunction(entry);
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(Object.entries(files).map(([name, code]) => [name, new pulumi.asset.StringAsset(code)])),
  );
}

export interface NodeFunctionArgs {
  /** Entry point relative to the repository root, e.g. `runtime/handlers/webhook.ts` (`FUNCTION_ENTRY`); it exports `handler`. */
  entry: pulumi.Input<string> & string;
  /** What the function does, shown in the console. */
  description: string;
  /**
   * Environment variables (build them typed: `FunctionEnvironment`).
   * @default none
   */
  environment?: EnvironmentVariables;
  /** Statements of the function's own inline policy (logging to its log group is added). Least privilege. */
  statements: pulumi.Input<PolicyStatement[]>;
  /** Memory in MiB (default 256). */
  memorySize?: number;
  /** Timeout in seconds (default 30). */
  timeout?: number;
  /** Days to keep the function's logs. */
  logRetentionDays: number;
  /** Reserved concurrency; undefined leaves the account pool. */
  reservedConcurrency?: number;
  /** Dead-letter target for asynchronous invocations (an SQS queue ARN). */
  deadLetterTargetArn?: pulumi.Input<string>;
  /** Tags for every child. */
  tags?: Record<string, string>;
}

/**
 * A Node.js 22 Lambda function on arm64 with its own role, its own log group (with retention, created before
 * the function so Lambda never creates one without retention) and an inline least-privilege policy.
 */
export class NodeFunction extends pulumi.ComponentResource {
  public readonly lambda: aws.lambda.Function;
  public readonly role: aws.iam.Role;
  public readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: NodeFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:NodeFunction", name, {}, opts);
    const functionName = `${name}-${pulumi.getStack()}`.slice(0, 64);

    this.logGroup = new aws.cloudwatch.LogGroup(
      name,
      { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays, tags: args.tags },
      { parent: this },
    );

    this.role = new aws.iam.Role(
      name,
      {
        assumeRolePolicy: lambdaAssumeRolePolicy(),
        description: `Runs ${functionName}: ${args.description}`.slice(0, 1000),
        tags: args.tags,
      },
      { parent: this },
    );

    const logStatement: pulumi.Input<PolicyStatement> = {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: pulumi.interpolate`${this.logGroup.arn}:*`,
    };
    const policy = new aws.iam.RolePolicy(
      name,
      {
        role: this.role.id,
        policy: policyDocument(pulumi.all([args.statements, logStatement]).apply(([own, logs]) => [...own, logs])),
      },
      { parent: this },
    );

    this.lambda = new aws.lambda.Function(
      name,
      {
        name: functionName,
        description: args.description.slice(0, 256),
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        handler: "index.handler",
        code: functionArchive(args.entry),
        role: this.role.arn,
        memorySize: args.memorySize ?? 256,
        timeout: args.timeout ?? 30,
        reservedConcurrentExecutions: args.reservedConcurrency,
        environment: args.environment ? { variables: definedVariables(args.environment) } : undefined,
        deadLetterConfig: args.deadLetterTargetArn ? { targetArn: args.deadLetterTargetArn } : undefined,
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        tags: args.tags,
      },
      { parent: this, dependsOn: [this.logGroup, policy] },
    );

    this.registerOutputs({ functionArn: this.lambda.arn, roleArn: this.role.arn });
  }
}
