import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as esbuild from "esbuild";
import * as path from "node:path";
import { FUNCTION_ENTRY } from "../../contract/names";
import { definedVariables, type EnvironmentVariables } from "./environment";
import { lambdaAssumeRolePolicy, policyDocument, type PolicyStatement } from "./iam";

/** Root of the repository: function entry points are given relative to it. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * esbuild's options for every function (entry points and directories are added by `bundleFunction`); exported so
 * `bench/webhook.ts` measures exactly what is deployed. See docs/webhook.md, "Bundle".
 */
export const BUNDLE_OPTIONS: esbuild.BuildOptions = {
  bundle: true,
  write: false,
  platform: "node",
  target: "node22",
  format: "esm",
  outExtension: { ".js": ".mjs" },
  // The AWS SDK's ES module builds (dist-es, `module`) instead of esbuild's default for node (`main`: dist-cjs, one
  // file per client holding every command): esbuild then keeps only the commands and code a function imports.
  mainFields: ["module", "main"],
  minify: true,
  treeShaking: true,
  legalComments: "none",
  charset: "utf8",
  // Lambda gives a function its role's credentials in environment variables: the SDK's default chain (STS, SSO,
  // ini files, metadata endpoints) is reduced to that link in every bundle (runtime/shared/credentials.ts).
  alias: { "@aws-sdk/credential-provider-node": "./runtime/shared/credentials.ts" },
  // Some AWS SDK dependencies still call require() for Node built-ins.
  banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
  logLevel: "silent",
};

const bundles = new Map<string, string>();

/** Every function's entry point, as the contract names them. */
function functionEntries(): string[] {
  return Object.values(FUNCTION_ENTRY).map((entry) => path.join(REPO_ROOT, entry));
}

/**
 * Bundles a function's entry point with esbuild into one ES module. The output is deterministic (no source maps
 * with absolute paths, no timestamps), so an unchanged function shows no diff in `pulumi preview`. All entry
 * points are bundled in one esbuild run on first use: they share the AWS SDK, which is then parsed once.
 */
export function bundleFunction(entry: string): string {
  const absolute = path.resolve(REPO_ROOT, entry);
  if (!bundles.has(absolute)) {
    const entries = [...new Set([...functionEntries(), absolute])].filter((e) => !bundles.has(e));
    const result = esbuild.buildSync({
      ...BUNDLE_OPTIONS,
      write: false,
      entryPoints: Object.fromEntries(entries.map((e) => [path.relative(REPO_ROOT, e).replace(/\.ts$/, ""), e])),
      absWorkingDir: REPO_ROOT,
      outdir: path.join(REPO_ROOT, ".bundles"),
    });
    for (const file of result.outputFiles ?? []) {
      const source = path.join(
        REPO_ROOT,
        path.relative(path.join(REPO_ROOT, ".bundles"), file.path).replace(/\.mjs$/, ".ts"),
      );
      bundles.set(source, file.text);
    }
  }
  const code = bundles.get(absolute);
  if (code === undefined) throw new Error(`esbuild produced no bundle for ${entry}`);
  return code;
}

/** The archive Lambda runs: `index.mjs` with the bundle, handler `index.handler`. */
export function functionArchive(entry: string): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.mjs": new pulumi.asset.StringAsset(bundleFunction(entry)) });
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
