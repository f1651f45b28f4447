/**
 * The account's GitHub Actions OIDC identity provider (issuer https://token.actions.githubusercontent.com).
 *
 * An AWS account can hold only one provider per issuer URL, so a stack either creates it or, when another stack
 * or a person already did, references it by ARN (config `githubOidcProviderArn`). Roles that trust it must pin
 * both the `aud` and the `sub` claim (see `program/task-runner`).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience `aws-actions/configure-aws-credentials` asks for. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

export interface GitHubOidcProviderArgs {
  /** ARN of an existing provider for token.actions.githubusercontent.com; undefined creates one. */
  existingProviderArn?: string;
  /** Tags for a created provider. */
  tags?: Record<string, string>;
}

/**
 * Returns the ARN of the account's GitHub Actions OIDC provider, creating the provider unless an existing one is
 * given. An existing ARN is looked up (`aws.iam.getOpenIdConnectProvider`), so a typo fails the preview instead
 * of producing roles nobody can assume. Call once per stack.
 *
 * No thumbprints: AWS validates tokens of this issuer against its own trusted root CAs and ignores the
 * thumbprint list, and `thumbprintLists` is optional in @pulumi/aws 7.
 */
export function githubOidcProvider(
  name: string,
  args: GitHubOidcProviderArgs = {},
  opts?: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  if (args.existingProviderArn !== undefined) {
    return aws.iam.getOpenIdConnectProviderOutput(
      { arn: args.existingProviderArn },
      { parent: opts?.parent, provider: opts?.provider },
    ).arn;
  }
  const provider = new aws.iam.OpenIdConnectProvider(
    name,
    {
      url: GITHUB_OIDC_URL,
      clientIdLists: [GITHUB_OIDC_AUDIENCE],
      tags: args.tags,
    },
    opts,
  );
  return provider.arn;
}

/**
 * A repository allowed to assume a role. GitHub writes `sub` either with names (`repo:OWNER/REPO:...`) or, for
 * repositories created, renamed or transferred after 18 June 2026 (and for organizations that opted in earlier),
 * with immutable ids (`repo:OWNER-OWNERID/REPO-REPOID:...`; GitHub changelog, 2026-04-23). The ids are those of
 * `GET /repos/OWNER/REPO` (`owner.id`, `id`).
 */
export interface GitHubRepositoryRef {
  /** `owner/repository`. */
  repository: string;
  /** The owner's numeric id; with `repositoryId`, adds the immutable-id subjects. */
  ownerId?: number;
  /** The repository's numeric id. */
  repositoryId?: number;
}

/** The `repo:` prefixes GitHub may put in a token of this repository: by name, and by ids when they are known. */
export function repositorySubjectPrefixes(ref: GitHubRepositoryRef): string[] {
  const prefixes = [`repo:${ref.repository}`];
  if (ref.ownerId !== undefined && ref.repositoryId !== undefined) {
    const [owner, name] = ref.repository.split("/");
    prefixes.push(`repo:${owner}-${ref.ownerId}/${name}-${ref.repositoryId}`);
  }
  return prefixes;
}

/**
 * The exact `sub` values for the given contexts (`ref:refs/heads/main`, `environment:production`,
 * `pull_request`), in both subject formats when the repository's ids are known. No wildcards.
 */
export function githubSubjects(ref: GitHubRepositoryRef, contexts: readonly string[]): string[] {
  return repositorySubjectPrefixes(ref).flatMap((prefix) => contexts.map((context) => `${prefix}:${context}`));
}

/**
 * Trust policy for GitHub Actions OIDC: `aud` pinned to sts.amazonaws.com and `sub` to exact values
 * (StringEquals, so no pattern can widen it). An empty subject list would trust no one; it is refused instead.
 */
export function githubOidcTrustPolicy(oidcProviderArn: string, subjects: readonly string[]): string {
  if (subjects.length === 0) throw new Error("a GitHub OIDC trust needs at least one subject");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GitHubActionsOidc",
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: [...new Set(subjects)],
          },
        },
      },
    ],
  });
}
