/**
 * Typed stack configuration: every key the program reads under `cirunners:`, as one zod schema. The pool's
 * architecture and warm schedule are the contract's (`contract/pool.ts`), the same the functions decode.
 */
import { z } from "zod";
import { ARCHITECTURES, warmScheduleSchema } from "../../contract/pool";
import { aiReviewSchema } from "../ai-review/config";
import { arcConfigSchema } from "../arc-runners/config";
import { runnerImagesSchema } from "../runner-images/config";
import {
  arn,
  githubLogin,
  INSTANCE_TYPE_PATTERN,
  instanceType,
  instanceTypeArchitecture,
  logRetentionDays,
  repositoryName,
  ssmParameterName,
  cidr,
  resourceName,
  subnetId,
  vpcId,
} from "./primitives";
import { codebuildSchema, taskSchema } from "./workloads";

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

export const existingNetworkSchema = z
  .object({
    vpcId,
    privateSubnetIds: z.array(subnetId).min(2, "expected at least two private subnets (two availability zones)"),
  })
  .strict();

export const createdNetworkSchema = z
  .object({
    // AWS takes /16 to /28 VPCs; the network's public subnets are 1/64 of it and need at least a /28 (network.ts).
    cidrBlock: cidr
      .refine(
        (c) => Number(c.split("/")[1]) >= 16 && Number(c.split("/")[1]) <= 22,
        "expected a VPC block from /16 to /22",
      )
      .default("10.20.0.0/16"),
    availabilityZones: z.number().int().min(2).max(6).default(2),
    natGateways: z.enum(["single", "onePerAz"]).default("single"),
    flowLogRetentionDays: logRetentionDays.optional(),
  })
  .strict();

const poolSchema = z
  .object({
    name: resourceName,
    labels: z.array(z.string().min(1).max(100)).min(1, "expected a non-empty set of labels"),
    instanceTypes: z.array(instanceType).min(1),
    architecture: z.enum(ARCHITECTURES),
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
    warmPool: z.optional(warmScheduleSchema),
    /** "stock": the bootstrap installs the runner's dependencies at boot; "baked": the runner-images AMI (docs/runner-images.md). */
    image: z.enum(["stock", "baked"], { error: 'expected "stock" or "baked"' }).default("stock"),
    /** Docker engine with the runner user in the docker group. */
    docker: z.boolean().default(true),
    /** Passwordless sudo for the runner user: off by default, since job code then owns the instance. */
    sudo: z.boolean().default(false),
  })
  .strict()
  .superRefine((pool, ctx) => {
    if (pool.image === "baked" && pool.ami)
      ctx.addIssue({
        code: "custom",
        path: ["ami"],
        message: 'a pool with image "baked" takes its AMI from the runner image pipeline: remove ami',
        input: pool.ami,
      });
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
  // Checks across pools (names, label sets) are in checks.ts: they run on the raw input, so that one bad pool
  // does not hide them until the next run.
  .strict();

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
    logRetentionDays: logRetentionDays.default(30),
    alarmTopicArn: arn.optional(),
    /** actions-runner-controller on EKS (program/arc-runners): absent deploys none. */
    arc: arcConfigSchema.optional(),
    /** The EC2 Image Builder pipeline for pools with `image: baked` (program/runner-images). */
    runnerImages: runnerImagesSchema.prefault({}),
    /** The OIDC role application repositories' AI review workflow assumes (program/ai-review): absent creates none. */
    aiReview: aiReviewSchema.optional(),
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
