/**
 * Typed stack configuration: every key the program reads, validated once at start-up.
 *
 * `parseStackConfig` is pure (raw key/value map in, typed object or one `ConfigError` out) so that every bad
 * input can be tested without Pulumi; `loadStackConfig` feeds it from the Pulumi runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export const PROJECT = "cirunners";

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

const CODEBUILD_COMPUTE_TYPES = [
  "BUILD_GENERAL1_SMALL",
  "BUILD_GENERAL1_MEDIUM",
  "BUILD_GENERAL1_LARGE",
  "BUILD_GENERAL1_XLARGE",
  "BUILD_GENERAL1_2XLARGE",
] as const;

/** Fargate's valid CPU units and, for each, the memory (MiB) it accepts. */
export const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

// ---- building blocks -------------------------------------------------------------------------------------

const resourceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
    "expected a lower-case name of 2-32 letters, digits and dashes, starting with a letter",
  );
const vpcId = z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a VPC id like vpc-0123456789abcdef0");
const subnetId = z
  .string()
  .regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a subnet id like subnet-0123456789abcdef0");
const securityGroupId = z
  .string()
  .regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, "expected a security group id like sg-0123456789abcdef0");
const awsRegion = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "expected an AWS region like eu-west-1");
const githubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, "expected a GitHub user or organization login");
const repositoryName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "expected a repository name (without owner)");
const ownerAndRepository = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9_.-]{1,100}$/, 'expected "owner/repository" with no wildcard');
const ssmParameterName = z
  .string()
  .regex(
    /^\/[A-Za-z0-9_.\-/]{1,1010}$/,
    "expected an SSM parameter name starting with /, like /cirunners/github-app/private-key",
  );
const port = z.number().int().min(1).max(65535);
const cidr = z.string().refine(isCidr, "expected an IPv4 CIDR block like 10.0.0.0/16");
const arn = z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/, "expected an ARN with an account id");

/** Instance type names such as m7g.large, c6i.2xlarge, t3a.micro, g5.xlarge, m7i-flex.large. */
export const INSTANCE_TYPE_PATTERN =
  /^[a-z][a-z0-9]*\d[a-z0-9]*(-flex)?\.(nano|micro|small|medium|large|xlarge|\d{1,2}xlarge|metal(-\d{1,2}xl)?)$/;

/** Graviton (arm64) families: a1, or a digit followed by "g" (m7g, c7gn, t4g, r8gd, g5g, im4gn, is4gen). */
export function instanceTypeArchitecture(instanceType: string): "arm64" | "x64" {
  const family = instanceType.split(".")[0];
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "x64";
}

export function isCidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 32 - prefix;
  return address % 2 ** hostBits === 0; // no host bits set: 10.0.0.1/16 is a typo, not a network
}

// ---- sections --------------------------------------------------------------------------------------------

const githubSchema = z
  .object({
    owner: githubLogin,
    scope: z.enum(["org", "repo"]).default("org"),
    repositories: z.array(repositoryName).default([]),
    appId: z.number().int().positive(),
    appPrivateKeyParameter: ssmParameterName,
    runnerGroup: z.string().min(1).max(100).default("ephemeral-runners"),
    apiUrl: z.url().default("https://api.github.com"),
  })
  .strict()
  .superRefine((github, ctx) => {
    if (github.scope === "repo" && github.repositories.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["repositories"],
        message: 'scope "repo" needs at least one repository',
        input: github.repositories,
      });
    }
  });

const existingNetworkSchema = z
  .object({
    vpcId,
    privateSubnetIds: z.array(subnetId).min(2, "expected at least two private subnets (two availability zones)"),
  })
  .strict();

const createdNetworkSchema = z
  .object({
    cidrBlock: cidr.default("10.20.0.0/16"),
    availabilityZones: z.number().int().min(2).max(6).default(2),
    natGateways: z.enum(["single", "onePerAz"]).default("single"),
    flowLogRetentionDays: z.number().int().optional(),
  })
  .strict();

const warmPoolSchema = z
  .object({
    size: z.number().int().min(1).max(100),
    days: z.array(z.enum(WEEKDAYS)).min(1).default(["mon", "tue", "wed", "thu", "fri"]),
    startHour: z.number().int().min(0).max(23),
    endHour: z.number().int().min(1).max(24),
    timezone: z.string().min(1).default("UTC"),
  })
  .strict()
  .refine((w) => w.endHour > w.startHour, { message: "endHour must be after startHour", path: ["endHour"] });

const poolSchema = z
  .object({
    name: resourceName,
    labels: z.array(z.string().min(1).max(100)).min(1, "expected a non-empty set of labels"),
    instanceTypes: z
      .array(z.string().regex(INSTANCE_TYPE_PATTERN, "expected an EC2 instance type like m7i.large"))
      .min(1),
    architecture: z.enum(["x64", "arm64"]),
    diskSizeGiB: z.number().int().min(8).max(16384).default(40),
    maxRunners: z.number().int().min(1).max(10000),
    spot: z.boolean().default(false),
    ami: z
      .string()
      .regex(
        /^(ami-[0-9a-f]{8,17}|\/[A-Za-z0-9_.\-/]+)$/,
        "expected an AMI id (ami-...) or a public SSM parameter path",
      )
      .optional(),
    warmPool: warmPoolSchema.optional(),
  })
  .strict()
  .superRefine((pool, ctx) => {
    const lowered = pool.labels.map((l) => l.toLowerCase());
    const duplicate = lowered.find((l, i) => lowered.indexOf(l) !== i);
    if (duplicate)
      ctx.addIssue({
        code: "custom",
        path: ["labels"],
        message: `label "${duplicate}" appears twice (labels are case-insensitive)`,
        input: pool.labels,
      });
    pool.instanceTypes.forEach((type, i) => {
      if (INSTANCE_TYPE_PATTERN.test(type) && instanceTypeArchitecture(type) !== pool.architecture) {
        ctx.addIssue({
          code: "custom",
          path: ["instanceTypes", i],
          message: `instance type is ${instanceTypeArchitecture(type)} but the pool's architecture is ${pool.architecture}`,
          input: type,
        });
      }
    });
    if (pool.warmPool && pool.warmPool.size > pool.maxRunners) {
      ctx.addIssue({
        code: "custom",
        path: ["warmPool", "size"],
        message: `warm pool larger than maxRunners (${pool.maxRunners})`,
        input: pool.warmPool.size,
      });
    }
  });

const runnersSchema = z
  .object({
    pools: z.array(poolSchema).min(1, "expected at least one runner pool"),
    launcher: z
      .object({
        batchSize: z.number().int().min(1).max(10).default(10),
        maxConcurrency: z.number().int().min(2).max(1000).default(10),
        maxReceiveCount: z.number().int().min(1).max(20).default(3),
        timeoutSeconds: z.number().int().min(10).max(300).default(60),
      })
      .strict()
      .prefault({}),
    bootGraceMinutes: z.number().int().min(2).max(60).default(10),
    maxJobHours: z.number().int().min(1).max(120).default(8),
    runnerVersion: z
      .union([z.literal("latest"), z.string().regex(/^\d+\.\d+\.\d+$/, 'expected "latest" or a version like 2.321.0')])
      .default("latest"),
    reaperSchedule: z
      .string()
      .regex(/^rate\(\d+ minutes?\)$/, 'expected a rate expression like "rate(5 minutes)"')
      .default("rate(5 minutes)"),
  })
  .strict()
  .superRefine((runners, ctx) => {
    const seenNames = new Map<string, number>();
    const seenLabelSets = new Map<string, number>();
    runners.pools.forEach((pool, i) => {
      if (seenNames.has(pool.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", i, "name"],
          message: `duplicate pool name (also pools[${seenNames.get(pool.name)}])`,
          input: pool.name,
        });
      } else seenNames.set(pool.name, i);
      const labelSet = [...new Set(pool.labels.map((l) => l.toLowerCase()))].sort().join(",");
      if (seenLabelSets.has(labelSet)) {
        ctx.addIssue({
          code: "custom",
          path: ["pools", i, "labels"],
          message: `same label set as pools[${seenLabelSets.get(labelSet)}]: a job could not tell the pools apart`,
          input: pool.labels,
        });
      } else seenLabelSets.set(labelSet, i);
    });
  });

const eksAccessSchema = z
  .object({
    clusterName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "expected an EKS cluster name"),
    clusterSecurityGroupId: securityGroupId,
    namespaces: z
      .array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a Kubernetes namespace"))
      .min(1, "expected at least one namespace"),
    accessPolicy: z
      .enum(["AmazonEKSViewPolicy", "AmazonEKSEditPolicy", "AmazonEKSAdminViewPolicy"])
      .default("AmazonEKSViewPolicy"),
  })
  .strict();

const codebuildRegionSchema = z
  .object({
    region: awsRegion,
    /** Omit both (only in the stack's own region) to use the stack's network. */
    vpcId: vpcId.optional(),
    privateSubnetIds: z.array(subnetId).min(1, "expected at least one private subnet").optional(),
    computeType: z.enum(CODEBUILD_COMPUTE_TYPES).default("BUILD_GENERAL1_SMALL"),
    image: z.string().min(1).default("aws/codebuild/amazonlinux-x86_64-standard:5.0"),
    buildTimeoutMinutes: z.number().int().min(5).max(2160).default(60),
    eks: eksAccessSchema.optional(),
    targets: z
      .array(z.object({ securityGroupId, port, description: z.string().max(200).optional() }).strict())
      .default([]),
  })
  .strict();

const codebuildSchema = z
  .object({
    repositories: z.array(repositoryName).default([]),
    connectionName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,32}$/, "expected a CodeConnections connection name (1-32 characters)")
      .optional(),
    regions: z.array(codebuildRegionSchema).min(1, "expected at least one region"),
  })
  .strict()
  .superRefine((codebuild, ctx) => {
    const seen = new Set<string>();
    codebuild.regions.forEach((r, i) => {
      if (seen.has(r.region))
        ctx.addIssue({
          code: "custom",
          path: ["regions", i, "region"],
          message: "region listed twice",
          input: r.region,
        });
      seen.add(r.region);
    });
  });

const taskSchema = z
  .object({
    name: resourceName,
    repositories: z
      .array(
        z
          .object({
            repository: ownerAndRepository,
            branches: z.array(z.string().regex(/^[A-Za-z0-9_./-]+$/, "expected a branch name")).default([]),
            environments: z.array(z.string().regex(/^[A-Za-z0-9_. -]+$/, "expected an environment name")).default([]),
          })
          .strict()
          .refine((r) => r.branches.length + r.environments.length > 0, {
            message: "expected at least one branch or environment allowed to run the task",
            path: ["branches"],
          }),
      )
      .min(1, "expected at least one repository allowed to run the task"),
    cpu: z.literal([256, 512, 1024, 2048, 4096, 8192, 16384]),
    memory: z.number().int(),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"),
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter\/|secret:).+$/,
            "expected an SSM parameter or Secrets Manager secret ARN",
          ),
      )
      .default({}),
    egress: z
      .array(
        z
          .object({
            securityGroupId: securityGroupId.optional(),
            cidrBlock: cidr.optional(),
            port,
            description: z.string().max(200).optional(),
          })
          .strict()
          .refine((e) => (e.securityGroupId === undefined) !== (e.cidrBlock === undefined), {
            message: "expected exactly one of securityGroupId or cidrBlock",
          }),
      )
      .min(1, "expected at least one egress destination (the database, for example)"),
    keepImages: z.number().int().min(1).max(1000).default(20),
    timeoutMinutes: z.number().int().min(1).max(1440).default(30),
    clusterArn: arn.optional(),
    readonlyRootFilesystem: z.boolean().default(true),
  })
  .strict()
  .superRefine((task, ctx) => {
    const allowed = FARGATE_MEMORY[task.cpu];
    if (allowed && !allowed.includes(task.memory)) {
      ctx.addIssue({
        code: "custom",
        path: ["memory"],
        message: `Fargate does not accept ${task.memory} MiB with ${task.cpu} CPU units; allowed: ${allowed[0]}-${allowed[allowed.length - 1]} MiB in steps of ${allowed[1] - allowed[0]}`,
        input: task.memory,
      });
    }
  });

/** Every project key: the stack files set these under `cirunners:`. */
export const stackConfigSchema = z
  .object({
    github: githubSchema,
    network: z.union([existingNetworkSchema, createdNetworkSchema]).optional(),
    runners: runnersSchema,
    codebuild: codebuildSchema.optional(),
    tasks: z
      .array(taskSchema)
      .default([])
      .superRefine((tasks, ctx) => {
        const seen = new Set<string>();
        tasks.forEach((t, i) => {
          if (seen.has(t.name))
            ctx.addIssue({ code: "custom", path: [i, "name"], message: "duplicate task name", input: t.name });
          seen.add(t.name);
        });
      }),
    githubOidcProviderArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
        "expected the ARN of the account's token.actions.githubusercontent.com OIDC provider",
      )
      .optional(),
    logRetentionDays: z
      .number()
      .int()
      .refine(
        (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
        `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
      )
      .default(30),
    alarmTopicArn: arn.optional(),
  })
  .strict();

export type StackConfigInput = z.input<typeof stackConfigSchema>;
type ParsedConfig = z.output<typeof stackConfigSchema>;
export type GitHubConfig = ParsedConfig["github"];
export type RunnerPool = ParsedConfig["runners"]["pools"][number];
export type RunnersConfig = ParsedConfig["runners"];
export type ExistingNetwork = z.output<typeof existingNetworkSchema>;
export type CreatedNetwork = z.output<typeof createdNetworkSchema>;
export type NetworkConfig = ExistingNetwork | CreatedNetwork;
export type CodeBuildConfig = NonNullable<ParsedConfig["codebuild"]>;
export type CodeBuildRegion = CodeBuildConfig["regions"][number];
export type TaskConfig = ParsedConfig["tasks"][number];

export interface StackConfig extends Omit<ParsedConfig, "network"> {
  /** Stack name (dev, prod, ...): part of names and parameter paths. */
  stack: string;
  /** The stack's default AWS region (`aws:region`). */
  region: string;
  /** Absent means "create a VPC" with these defaults. */
  network: NetworkConfig;
}

export function isExistingNetwork(network: NetworkConfig): network is ExistingNetwork {
  return "vpcId" in network;
}

/** A bad stack configuration: the message names every wrong key, what was found and what was expected. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function keyPath(path: PropertyKey[]): string {
  let out = `${PROJECT}:${String(path[0])}`;
  for (const part of path.slice(1)) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  // A union reports its branches' issues; show the branch closest to the input.
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const unknownKeys = (errors: z.core.$ZodIssue[]) => errors.filter((e) => e.code === "unrecognized_keys").length;
    const best = [...issue.errors].sort((a, b) => unknownKeys(a) - unknownKeys(b) || a.length - b.length)[0];
    return best.flatMap((inner) => formatIssue({ ...inner, path: [...issue.path, ...inner.path] }));
  }
  const where = keyPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key (check its spelling)`);
  }
  const found = "input" in issue ? describe(issue.input) : "an invalid value";
  let expected = issue.message;
  if (issue.code === "invalid_type") expected = `expected ${issue.expected}`;
  if (issue.code === "too_small" && issue.origin === "array")
    expected = issue.message.startsWith("expected")
      ? issue.message
      : `expected at least ${String(issue.minimum)} item(s)`;
  if (issue.code === "too_small" && issue.origin === "number")
    expected = `expected a number >= ${String(issue.minimum)}`;
  if (issue.code === "too_big" && issue.origin === "number") expected = `expected a number <= ${String(issue.maximum)}`;
  if (issue.code === "invalid_value")
    expected = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return [`${where}: ${expected}, found ${found}`];
}

/**
 * Validates raw config values (already JSON-decoded: objects, numbers, strings) for a stack.
 * `raw` holds the project's keys without the `cirunners:` prefix.
 */
export function parseStackConfig(raw: Record<string, unknown>, stack: string, region: string | undefined): StackConfig {
  const problems: string[] = [];
  if (!region) problems.push(`aws:region: expected an AWS region like eu-west-1, found nothing`);
  else if (!awsRegion.safeParse(region).success)
    problems.push(`aws:region: expected an AWS region like eu-west-1, found ${describe(region)}`);
  // Pulumi.yaml declares optional string keys with an empty default: empty means "not set".
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ""));
  const result = stackConfigSchema.safeParse(given, { reportInput: true });
  if (!result.success) problems.push(...result.error.issues.flatMap(formatIssue));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const parsed = result.data;
  if (parsed.github.scope === "repo") {
    parsed.runners.pools.forEach((pool, i) => {
      // A repository runner serves one repository, so an idle warm runner could not take any job of the pool.
      if (pool.warmPool)
        problems.push(
          `${PROJECT}:runners.pools[${i}].warmPool: warm pools need github.scope "org" (an idle repository runner serves only one repository), found scope "repo"`,
        );
    });
  }
  parsed.codebuild?.regions.forEach((r, i) => {
    const where = `${PROJECT}:codebuild.regions[${i}]`;
    if (r.vpcId === undefined && r.privateSubnetIds !== undefined)
      problems.push(`${where}.vpcId: expected the VPC of the given privateSubnetIds, found nothing`);
    if (r.vpcId !== undefined && r.privateSubnetIds === undefined)
      problems.push(`${where}.privateSubnetIds: expected the private subnets of ${r.vpcId}, found nothing`);
    if (r.vpcId === undefined && r.privateSubnetIds === undefined && r.region !== region) {
      problems.push(
        `${where}.vpcId: expected a VPC id and privateSubnetIds for ${r.region} (only the stack's own region ${region} can use the stack's network), found nothing`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  if (parsed.codebuild && !parsed.github.apiUrl.startsWith("https://api.github.com")) {
    throw new ConfigError([
      `${PROJECT}:codebuild: CodeBuild-hosted runners need github.com; found github.apiUrl ${parsed.github.apiUrl}`,
    ]);
  }
  return {
    ...parsed,
    stack,
    region: region as string,
    network: parsed.network ?? createdNetworkSchema.parse({}),
  };
}

/** Decodes a config value the way `Config.getObject` does, keeping plain strings as strings. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Reads and validates the whole stack configuration from the Pulumi runtime. */
export function loadStackConfig(): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = decode(value);
  }
  return parseStackConfig(raw, pulumi.getStack(), new pulumi.Config("aws").get("region"));
}
