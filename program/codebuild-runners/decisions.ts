/**
 * Pure decisions behind the CodeBuild-hosted runners: names, the `runs-on` label, the webhook's source and filter,
 * and the service role's statements. Kept free of Pulumi resources so that each can be unit-tested.
 *
 * References (AWS CodeBuild user guide):
 * - action-runner.html: a project whose webhook has `EVENT = WORKFLOW_JOB_QUEUED`; jobs select it with
 *   `runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`.
 * - github-global-organization-webhook.html: organization webhooks need the source location
 *   `CODEBUILD_DEFAULT_WEBHOOK_SOURCE_LOCATION` and a scope configuration (`GITHUB_ORGANIZATION`, name = the
 *   organization); `REPOSITORY_NAME` filters narrow it to some repositories.
 * - auth-and-access-control-iam-identity-based-access-control.html (create VPC network interface) and
 *   connections-github-app.html (codeconnections:GetConnectionToken / GetConnection) for the role.
 */
import { type AwsLocation, ec2Arn, regionalArn } from "../../contract/arn";
import type { PolicyStatement } from "../shared/iam";

/** The source location CodeBuild requires for organization (and global) webhooks. */
export const ORGANIZATION_WEBHOOK_LOCATION = "CODEBUILD_DEFAULT_WEBHOOK_SOURCE_LOCATION";

/** CodeBuild project names: 2-255 characters, letters, digits, dashes and underscores, starting alphanumeric. */
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;

/** `gha-runner-<stack>-<region>`: says what it is (a GitHub Actions runner) and where (stack, region). */
export function runnerProjectName(stack: string, region: string): string {
  const name = `gha-runner-${stack}-${region}`;
  if (!PROJECT_NAME.test(name)) {
    throw new Error(
      `CodeBuild project name "${name}" (from stack "${stack}" and region "${region}") is not valid: expected letters, digits, "-" and "_" only, at most 255 characters`,
    );
  }
  return name;
}

/**
 * The `runs-on` label a workflow job uses to run on the project. The run id and attempt make each job's label
 * unique, which is how CodeBuild ties the queued job to the build it starts.
 */
export function runsOnLabel(projectName: string): string {
  return `codebuild-${projectName}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/** `^(a|b)$` with regular-expression characters in repository names (the dot) escaped. */
export function repositoryNamePattern(repositories: readonly string[]): string {
  if (repositories.length === 0) throw new Error("repositoryNamePattern needs at least one repository");
  const escaped = [...new Set(repositories)].map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return `^(${escaped.join("|")})$`;
}

export interface WebhookFilter {
  type: "EVENT" | "REPOSITORY_NAME";
  pattern: string;
}

/**
 * One filter group: a queued workflow job, and (for an organization webhook with repositories configured) only
 * from those repositories. Filters in one group are ANDed, so a job from any other repository starts nothing.
 * `REPOSITORY_NAME` works with organization and global webhooks only; a repository webhook needs none.
 */
export function webhookFilterGroups(scope: "org" | "repo", repositories: readonly string[]): WebhookFilter[][] {
  const group: WebhookFilter[] = [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }];
  if (scope === "org" && repositories.length > 0)
    group.push({ type: "REPOSITORY_NAME", pattern: repositoryNamePattern(repositories) });
  return [group];
}

export interface WebhookSource {
  /** The project's source location. */
  location: string;
  /** Set for an organization webhook. */
  scopeConfiguration?: { name: string; scope: "GITHUB_ORGANIZATION" };
}

/**
 * Where the webhook listens. A project has one webhook, and a repository webhook serves the one repository in
 * the source location; so an organization-scoped runner (`github.scope: org`) always uses an organization
 * webhook, narrowed by the `REPOSITORY_NAME` filter when repositories are listed. A repository-scoped setup (a
 * personal account has no organization webhooks) takes exactly one repository and a repository webhook.
 */
export function webhookSource(owner: string, scope: "org" | "repo", repositories: readonly string[]): WebhookSource {
  if (scope === "org") {
    return {
      location: ORGANIZATION_WEBHOOK_LOCATION,
      scopeConfiguration: { name: owner, scope: "GITHUB_ORGANIZATION" },
    };
  }
  if (repositories.length !== 1) {
    throw new Error(
      `cirunners:codebuild.repositories: with github.scope "repo" a CodeBuild project listens to exactly one repository (a repository webhook); found ${repositories.length}. Use github.scope "org" for an organization webhook filtered to several repositories.`,
    );
  }
  return { location: `https://github.com/${owner}/${repositories[0]}.git` };
}

export interface RunnerRoleInputs extends AwsLocation {
  /** ARN of the project's log group (without a trailing `:*`). */
  logGroupArn: string;
  /** The private subnets the builds run in. */
  subnetIds: readonly string[];
  /** The runner security group attached to the build's network interfaces. */
  securityGroupId: string;
  /** The CodeConnections connection, when the project authenticates with one. */
  connectionArn?: string;
  /** EKS cluster the builds may describe (for `aws eks update-kubeconfig`). */
  eksClusterName?: string;
}

/**
 * Least-privilege statements for the CodeBuild service role. AWS documents the VPC set with `Resource: "*"` for
 * CreateNetworkInterface and DeleteNetworkInterface; both support resource-level permissions (network-interface,
 * subnet and security-group ARNs), so they are scoped here to this region's subnets and runner security group.
 * Only the Describe* actions, which have no resource types, stay on `*`.
 */
export function runnerRoleStatements(input: RunnerRoleInputs): PolicyStatement[] {
  const subnetArns = input.subnetIds.map((id) => ec2Arn(input, `subnet/${id}`));
  const networkInterfaces = ec2Arn(input, "network-interface/*");
  const statements: PolicyStatement[] = [
    {
      Sid: "WriteBuildLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [input.logGroupArn, `${input.logGroupArn}:*`],
    },
    {
      Sid: "DescribeVpcForBuilds",
      Effect: "Allow",
      Action: [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
      ],
      Resource: "*",
    },
    {
      Sid: "CreateBuildNetworkInterfaces",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterface",
      Resource: [networkInterfaces, ...subnetArns, ec2Arn(input, `security-group/${input.securityGroupId}`)],
    },
    {
      Sid: "DeleteBuildNetworkInterfaces",
      Effect: "Allow",
      Action: "ec2:DeleteNetworkInterface",
      Resource: networkInterfaces,
    },
    {
      Sid: "LetCodeBuildAttachNetworkInterfaces",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterfacePermission",
      Resource: networkInterfaces,
      Condition: {
        StringEquals: {
          "ec2:Subnet": subnetArns,
          "ec2:AuthorizedService": "codebuild.amazonaws.com",
        },
      },
    },
  ];
  if (input.connectionArn) {
    statements.push({
      Sid: "UseGitHubConnection",
      Effect: "Allow",
      Action: connectionActions(input.connectionArn),
      Resource: input.connectionArn,
    });
  }
  if (input.eksClusterName) {
    statements.push({
      Sid: "DescribeEksCluster",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: regionalArn(input, "eks", `cluster/${input.eksClusterName}`),
    });
  }
  return statements;
}

/**
 * The actions CodeBuild documents for a GitHub App connection, in the IAM namespace that matches the ARN: the
 * service was renamed from CodeStar Connections, and older connections keep `codestar-connections` ARNs.
 */
export function connectionActions(connectionArn: string): string[] {
  const service = connectionArn.split(":")[2] === "codestar-connections" ? "codestar-connections" : "codeconnections";
  return [`${service}:GetConnectionToken`, `${service}:GetConnection`];
}

/**
 * Trust policy for the project's service role: only CodeBuild, only on behalf of this account's project. The
 * project ARN is predictable from name, region and account, which breaks the role ↔ project cycle.
 */
export function runnerTrustPolicy(account: string, projectArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "codebuild.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": account },
          ArnLike: { "aws:SourceArn": projectArn },
        },
      },
    ],
  });
}
