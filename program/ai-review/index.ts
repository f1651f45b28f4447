/**
 * AiReviewRole: the role `templates/ai-review.yml` assumes from an application repository's pull request to
 * review it with Amazon Bedrock, without a stored API key.
 *
 *   pull_request job --OIDC (sub repo:OWNER/REPO:pull_request)--> AI review role --InvokeModel--> Bedrock model
 *
 * The repository variables CIRUNNERS_AI_REVIEW_{ROLE_ARN,REGION,MODEL} tell the workflow what to assume and call.
 */
import * as aws from "@pulumi/aws";
import type * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { githubOidcTrustPolicy } from "../github-oidc";
import { policyDocument } from "../shared/iam";
import { awsLocation } from "../shared/location";
import { GitHubActionsVariables } from "../task-runner/github-variables";
import type { AiReviewConfig } from "./config";
import { aiReviewSubjects, bedrockInvokeStatements } from "./policies";

export * from "./config";
export * from "./policies";

/** The repository variables templates/ai-review.yml reads. */
export const AI_REVIEW_VARIABLES = {
  roleArn: "CIRUNNERS_AI_REVIEW_ROLE_ARN",
  region: "CIRUNNERS_AI_REVIEW_REGION",
  model: "CIRUNNERS_AI_REVIEW_MODEL",
} as const;

export interface AiReviewRoleArgs {
  /** The `aiReview` block of the stack configuration. */
  readonly config: AiReviewConfig;
  /** ARN of the account's GitHub Actions OIDC provider (`githubOidcProvider`). */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** Owner (organization or user) of the default GitHub provider, which sets the variables. */
  readonly githubOwner: string;
  /**
   * Explicit GitHub provider for `githubOwner`.
   * @default the stack's default GitHub provider
   */
  readonly githubProvider?: github.Provider;
  /**
   * Tags for the role.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class AiReviewRole extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly roleArn: pulumi.Output<string>;
  /** Region the workflow calls Bedrock in. */
  public readonly region: pulumi.Output<string>;

  constructor(name: string, args: AiReviewRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:AiReviewRole", name, {}, opts);
    const { config, tags } = args;
    const parent = { parent: this };
    const stackLocation = awsLocation(parent);
    const location = stackLocation.apply((where) => ({ ...where, region: config.region ?? where.region }));
    this.region = location.apply((where) => where.region);

    const subjects = aiReviewSubjects(config);
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: pulumi.output(args.oidcProviderArn).apply((arn) => githubOidcTrustPolicy(arn, subjects)),
        description:
          `Pull request reviews with Bedrock ${config.model}, from ${config.repositories.map((r) => r.repository).join(", ")}`.slice(
            0,
            1000,
          ),
        // A review is bounded by the job's 20-minute timeout; one hour is IAM's minimum maximum.
        maxSessionDuration: 3600,
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-bedrock`,
      {
        role: this.role.id,
        policy: policyDocument(location.apply((where) => bedrockInvokeStatements(where, config))),
      },
      parent,
    );
    this.roleArn = this.role.arn;

    new GitHubActionsVariables(
      name,
      {
        names: AI_REVIEW_VARIABLES,
        values: { roleArn: this.role.arn, region: this.region, model: config.model },
        repositories: config.repositories.map((r) => r.repository),
        githubOwner: args.githubOwner,
        githubProvider: args.githubProvider,
      },
      parent,
    );

    this.registerOutputs({ roleArn: this.roleArn, region: this.region });
  }
}
