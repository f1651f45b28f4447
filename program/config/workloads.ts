/**
 * The schema of the optional workloads beside the ephemeral runners: CodeBuild-hosted runners per region and
 * one-shot tasks (GitHub OIDC → Step Functions → ECS Fargate).
 */
import { z } from "zod";
import {
  arn,
  awsRegion,
  CODEBUILD_COMPUTE_TYPES,
  cidr,
  FARGATE_MEMORY,
  ownerAndRepository,
  port,
  repositoryName,
  resourceName,
  securityGroupId,
  subnetId,
  vpcId,
} from "./primitives";

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

export const codebuildSchema = z
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

/** GitHub's numeric ids (`GET /repos/OWNER/REPO`: `owner.id`, `id`). */
const githubId = z.number().int().positive();

/**
 * A repository trusted through GitHub OIDC: by name, and optionally by its immutable ids, which GitHub puts in
 * `sub` (`repo:OWNER-OWNERID/REPO-REPOID:...`) for repositories created, renamed or transferred after 18 June 2026.
 * With the ids, roles accept both subject formats; give both ids or neither.
 */
export const githubRepositoryFields = {
  repository: ownerAndRepository,
  ownerId: githubId.optional(),
  repositoryId: githubId.optional(),
};

/** Refinement for objects with `githubRepositoryFields`: both ids or neither. */
export function bothIdsOrNeither(r: { ownerId?: number; repositoryId?: number }, ctx: z.RefinementCtx): void {
  if ((r.ownerId === undefined) !== (r.repositoryId === undefined))
    ctx.addIssue({
      code: "custom",
      path: [r.ownerId === undefined ? "ownerId" : "repositoryId"],
      message: "expected both ownerId and repositoryId (the immutable-id subject needs both) or neither",
    });
}

export const taskSchema = z
  .object({
    name: resourceName,
    repositories: z
      .array(
        z
          .object({
            ...githubRepositoryFields,
            branches: z.array(z.string().regex(/^[A-Za-z0-9_./-]+$/, "expected a branch name")).default([]),
            environments: z.array(z.string().regex(/^[A-Za-z0-9_. -]+$/, "expected an environment name")).default([]),
          })
          .strict()
          .refine((r) => r.branches.length + r.environments.length > 0, {
            message: "expected at least one branch or environment allowed to run the task",
            path: ["branches"],
          })
          .superRefine(bothIdsOrNeither),
      )
      .min(1, "expected at least one repository allowed to run the task"),
    cpu: z.literal([256, 512, 1024, 2048, 4096, 8192, 16384]),
    memory: z.number().int(),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    /** May a run replace the container's command (`command` in the execution input)? */
    allowCommandOverride: z.boolean().default(false),
    /** Variables a run may set (`environment` in the execution input); any other name fails the execution. */
    allowedEnvironment: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, "expected an environment variable name"))
      .default([]),
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
            /**
             * For a security group target: add the ingress rule on that group that admits the task on `port`.
             * Set false when another stack owns the group's rules.
             */
            manageIngress: z.boolean().default(true),
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
