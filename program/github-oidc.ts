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
