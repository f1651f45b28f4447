/**
 * IAM documents of the AI review role, as pure functions of resolved values: who may assume it (pull requests of
 * the allowed repositories) and which Bedrock resources it may invoke.
 */
import { type AwsLocation, arn } from "../../contract/arn";
import { githubSubjects } from "../github-oidc";
import type { PolicyStatement } from "../shared/iam";
import { type AiReviewConfig, INFERENCE_PROFILE_PREFIX } from "./config";

/** The actions a review needs: one-shot and streamed inference. Converse/ConverseStream are authorised by these. */
export const BEDROCK_INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];

/** `repo:OWNER/REPO:pull_request` (and the immutable-id form) of each allowed repository. */
export function aiReviewSubjects(review: Pick<AiReviewConfig, "repositories">): string[] {
  return [...new Set(review.repositories.flatMap((r) => githubSubjects(r, ["pull_request"])))];
}

/**
 * Invoke statements for the configured model. A foundation model: its ARN in the review region (foundation models
 * belong to no account). An inference profile: the profile's ARN in the review region, and the underlying
 * foundation model in every region the profile routes to, usable only through that profile
 * (`bedrock:InferenceProfileArn`), as "Prerequisites for inference profiles" (Amazon Bedrock user guide) requires.
 */
export function bedrockInvokeStatements(
  where: AwsLocation,
  review: Pick<AiReviewConfig, "model" | "routesTo">,
): PolicyStatement[] {
  const profile = INFERENCE_PROFILE_PREFIX.exec(review.model);
  if (!profile) {
    return [
      {
        Sid: "InvokeReviewModel",
        Effect: "Allow",
        Action: BEDROCK_INVOKE_ACTIONS,
        Resource: arn(where, "bedrock", where.region, "", `foundation-model/${review.model}`),
      },
    ];
  }
  if (!review.routesTo?.length) throw new Error(`${review.model}: an inference profile needs routesTo`);
  const profileArn = arn(where, "bedrock", where.region, where.account, `inference-profile/${review.model}`);
  const foundationModel = review.model.slice(profile[0].length);
  return [
    { Sid: "InvokeReviewProfile", Effect: "Allow", Action: BEDROCK_INVOKE_ACTIONS, Resource: profileArn },
    {
      Sid: "InvokeProfileModels",
      Effect: "Allow",
      Action: BEDROCK_INVOKE_ACTIONS,
      Resource: [...new Set(review.routesTo)]
        .sort()
        .map((region) => arn(where, "bedrock", region, "", `foundation-model/${foundationModel}`)),
      Condition: { StringEquals: { "bedrock:InferenceProfileArn": profileArn } },
    },
  ];
}
