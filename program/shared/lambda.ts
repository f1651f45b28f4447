import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as esbuild from "esbuild";
import * as path from "node:path";
import { definedVariables, type EnvironmentVariables } from "./environment";
import { lambdaAssumeRolePolicy, policyDocument, type PolicyStatement } from "./iam";

/** Root of the repository: function entry points are given relative to it. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * esbuild's options for every function (entry points and directories are added by `bundleArchive`); exported so
 * `bench/webhook.ts` measures exactly what is deployed. See docs/webhook.md, "Bundle".
 */
export const BUNDLE_OPTIONS: esbuild.BuildOptions = {
  bundle: true,
  write: false,
  platform: "node",
  target: "node22",
  format: "esm",
  outExtension: { ".js": ".mjs" },
  // Code splitting: what a function reaches only through a dynamic import() (in the AWS SDK the event-stream codec
  // and bowser, which no function's operation loads; @octokit/webhooks-methods in ours) goes to a chunk of its own,
  // which Node reads only when the import runs, so the cold path parses less. Chunks sit next to the entry (flat
  // names), so the entry's relative imports resolve inside the archive.
  splitting: true,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
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
  // Some AWS SDK dependencies still call require() for Node built-ins (every output file gets its own).
  banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
  logLevel: "silent",
};

/** The archive's file the handler lives in: Lambda's handler `index.handler`. */
export const ARCHIVE_ENTRY = "index.mjs";

/** esbuild's output directory; nothing is written there (`write: false`), outputs are named relative to it. */
const OUT_DIR = ".bundles";

export interface FunctionBundle {
  /** The archive's files by name: `index.mjs` and every chunk it imports, statically or dynamically. */
  files: Record<string, string>;
  /** esbuild's metafile of the build (bytes per input in each output, for bench/webhook.ts). */
  metafile: esbuild.Metafile;
}

/**
 * Bundles one function's entry point (relative to `root`, default this repository) in an esbuild run of its own,
 * with `BUNDLE_OPTIONS` and `overrides` (bench/webhook-build.ts's variants). One run per entry rather than one
 * for all: with code splitting, one run would cut chunks along every function's import graph, so a change to one
 * function could rename or reshape a chunk another function's archive holds (an update of that Lambda function
 * in `pulumi preview` that no code of its own asked for: measured, one import added to the webhook changed the
 * launcher's, the reaper's and the reconciler's archives), and bench/webhook.ts would not measure the deployed
 * archive. The price: the SDK is parsed once per function: the offline preview of prod took a median 10.4 s
 * against 6.7 s for one run (9 runs each) and 8.2 s before splitting, on a loaded 2-core machine; running the
 * builds asynchronously beside the program gained nothing there. The output is deterministic: content-hashed chunk
 * names, no source maps with absolute paths, no timestamps.
 */
export function bundleArchive(
  entry: string,
  options: { root?: string; overrides?: esbuild.BuildOptions } = {},
): FunctionBundle {
  const root = options.root ?? REPO_ROOT;
  const result = esbuild.buildSync({
    ...BUNDLE_OPTIONS,
    ...options.overrides,
    write: false,
    metafile: true,
    entryPoints: { [ARCHIVE_ENTRY.replace(/\.mjs$/, "")]: path.resolve(root, entry) },
    absWorkingDir: root,
    outdir: path.join(root, OUT_DIR),
  });
  const metafile = result.metafile;
  if (!metafile) throw new Error(`esbuild produced no metafile for ${entry}`);
  const text = new Map((result.outputFiles ?? []).map((file) => [path.relative(root, file.path), file.text]));
  // Only the outputs the entry reaches: esbuild also writes chunks no import names (bowser's, whose dynamic import
  // tree shaking removed), and external imports (the runtime's SDK in a bench variant) are not files.
  const reached = new Set<string>();
  const visit = (output: string) => {
    if (reached.has(output)) return;
    reached.add(output);
    for (const imported of metafile.outputs[output]?.imports ?? [])
      if (!imported.external && (imported.kind === "import-statement" || imported.kind === "dynamic-import"))
        visit(imported.path);
  };
  visit(`${OUT_DIR}/${ARCHIVE_ENTRY}`);
  const files: Record<string, string> = {};
  for (const output of [...reached].sort()) {
    const name = path.relative(OUT_DIR, output);
    const code = text.get(output);
    if (code === undefined || name.includes("/"))
      throw new Error(`esbuild's output ${output} for ${entry} is not a file beside ${ARCHIVE_ENTRY}`);
    files[name] = code;
  }
  return { files, metafile };
}

const bundles = new Map<string, Record<string, string>>();

/** A function's archive files (`bundleArchive`, built once per entry in this process): file name → code. */
export function bundleFunction(entry: string): Record<string, string> {
  const absolute = path.resolve(REPO_ROOT, entry);
  let files = bundles.get(absolute);
  if (!files) {
    files = bundleArchive(absolute).files;
    bundles.set(absolute, files);
  }
  return files;
}

/** The archive Lambda runs: `index.mjs` (handler `index.handler`) and its chunks beside it. */
export function functionArchive(entry: string): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(
      Object.entries(bundleFunction(entry)).map(([name, code]) => [name, new pulumi.asset.StringAsset(code)]),
    ),
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
