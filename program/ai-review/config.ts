/**
 * Config of the AI review role (`cirunners:aiReview`): which repositories' pull requests may use it, and which
 * Bedrock model. Composed into the stack schema by program/config/schema.ts as `aiReview: aiReviewSchema.optional()`.
 */
import { z } from "zod";
import { awsRegion } from "../config/primitives";
import { bothIdsOrNeither, githubRepositoryFields } from "../config/workloads";

/**
 * The geography prefix of a system-defined cross-region inference profile id (`us.anthropic.claude-...`,
 * `eu.`, `apac.`, `global.`, ...); a foundation model id has none (`anthropic.claude-...`).
 */
export const INFERENCE_PROFILE_PREFIX = /^(us|us-gov|eu|apac|jp|au|ca|global)\./;

/** Bedrock model ids: `provider.model-name-vN:M`, optionally behind an inference profile's prefix. */
const modelId = z
  .string()
  .regex(
    /^([a-z-]+\.)?[a-z0-9-]+\.[A-Za-z0-9._:-]{1,120}$/,
    "expected a Bedrock model id (anthropic.claude-...) or a cross-region inference profile id (us.anthropic.claude-...)",
  );

export const aiReviewSchema = z
  .object({
    /** Repositories whose pull requests (`pull_request` subject) may assume the role. */
    repositories: z
      .array(z.object(githubRepositoryFields).strict().superRefine(bothIdsOrNeither))
      .min(1, "expected at least one repository"),
    /** The model the review uses (CIRUNNERS_AI_REVIEW_MODEL): a foundation model or a cross-region profile id. */
    model: modelId,
    /**
     * Bedrock region the workflow calls (CIRUNNERS_AI_REVIEW_REGION).
     * @default the stack's region
     */
    region: awsRegion.optional(),
    /**
     * For an inference profile: every region it routes requests to. The role must allow the foundation model in
     * each of them (Amazon Bedrock user guide, "Prerequisites for inference profiles").
     */
    routesTo: z.array(awsRegion).min(1).optional(),
  })
  .strict()
  .superRefine((review, ctx) => {
    const profile = INFERENCE_PROFILE_PREFIX.test(review.model);
    if (profile && !review.routesTo)
      ctx.addIssue({
        code: "custom",
        path: ["routesTo"],
        message: `${review.model} is a cross-region inference profile: list the regions it routes to (Bedrock console, "Cross-region inference")`,
      });
    if (!profile && review.routesTo)
      ctx.addIssue({
        code: "custom",
        path: ["routesTo"],
        message: `${review.model} is a foundation model, invoked in one region: routesTo applies to inference profiles only`,
      });
  });

export type AiReviewConfig = z.output<typeof aiReviewSchema>;
