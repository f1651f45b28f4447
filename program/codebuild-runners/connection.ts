/**
 * The CodeConnections connection CodeBuild uses to reach GitHub: one per organization, shared by every region.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

export interface GitHubConnectionArgs {
  /** Stack name: part of the default connection name. */
  stack: string;
  /** `cirunners:codebuild.connectionName`; default `gha-runners-<stack>`. */
  connectionName?: string;
  /** Tags for the connection. */
  tags?: Record<string, string>;
}

/**
 * The organization's CodeConnections connection to GitHub. Connections are global resources: created once (in
 * the stack's default region) and usable by CodeBuild in every other commercial region (connections created in
 * opt-in regions are the exception). It is created PENDING; a person completes it once in the console.
 */
export function githubConnection(
  name: string,
  args: GitHubConnectionArgs,
  opts?: pulumi.CustomResourceOptions,
): aws.codeconnections.Connection {
  const connectionName = args.connectionName ?? `gha-runners-${args.stack}`;
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(connectionName)) {
    throw new Error(
      `CodeConnections connection name "${connectionName}" is not valid: expected 1-32 letters, digits, ".", "_" or "-" (set cirunners:codebuild.connectionName)`,
    );
  }
  return new aws.codeconnections.Connection(
    name,
    { name: connectionName, providerType: "GitHub", tags: args.tags },
    opts,
  );
}
