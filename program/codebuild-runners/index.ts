/**
 * CodeBuild-hosted GitHub Actions runners for one region, inside that region's VPC: for jobs that must reach
 * private endpoints (a private EKS API server, a database) without opening them to GitHub's address ranges.
 *
 * One `CodeBuildRunners` per configured region; each brings its own `aws.Provider` so that one stack serves
 * several regions. The GitHub connection is global (see `githubConnection`) and is shared by all regions.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AwsLocation, awsManagedArn, regionalArn } from "../../contract/arn";
import type { CodeBuildRegion, GitHubConfig } from "../config";
import { policyDocument } from "../shared/iam";
import {
  runnerProjectName,
  runnerRoleStatements,
  runnerTrustPolicy,
  runsOnLabel,
  webhookFilterGroups,
  webhookSource,
} from "./decisions";

export * from "./connection";
export * from "./decisions";

/**
 * How long a build may wait in CodeBuild's queue (the maximum, 8 hours). A build that times out there leaves its
 * GitHub job queued with no runner until GitHub gives up after 24 hours, so waiting longer is the lesser evil.
 */
export const QUEUED_TIMEOUT_MINUTES = 480;

/** Repository roles whose pull requests from forks need no `/codebuild_run(<sha>)` approval comment. */
const FORK_APPROVER_ROLES = ["GITHUB_WRITE", "GITHUB_MAINTAIN", "GITHUB_ADMIN"];

export interface CodeBuildRunnersArgs {
  /** Stack name (dev, prod, ...): part of the project name. */
  stack: string;
  /** The region's entry from `cirunners:codebuild.regions`: region, compute, image, timeout, EKS and targets. */
  region: CodeBuildRegion;
  /** The VPC and private subnets the builds run in (the region's configured VPC, or the stack's own network). */
  network: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string[]> };
  /** GitHub owner and scope: an organization gets an organization webhook. */
  github: Pick<GitHubConfig, "owner" | "scope">;
  /** Repositories (names without owner) allowed to start builds; empty = every repository of the organization. */
  repositories: string[];
  /** ARN of the shared CodeConnections GitHub connection; omitted = the region's default source credential. */
  connectionArn?: pulumi.Input<string>;
  /** Days to keep build logs. */
  logRetentionDays: number;
  /** Maximum builds running at once in this region; undefined leaves the account's limit. */
  concurrentBuildLimit?: number;
  /** Extra settings for the region's provider (credentials, assumed role); `aws:profile` is copied by default. */
  providerArgs?: Omit<aws.ProviderArgs, "region">;
  /** Tags for every taggable child. */
  tags?: Record<string, string>;
}

/**
 * A CodeBuild project that serves as an ephemeral GitHub Actions runner in one region's private subnets, with its
 * webhook, log group, security group, service role and access to the configured private endpoints.
 */
export class CodeBuildRunners extends pulumi.ComponentResource {
  /** The region this component manages. */
  public readonly region: string;
  /** The explicit provider every AWS child uses. */
  public readonly provider: aws.Provider;
  public readonly project: aws.codebuild.Project;
  public readonly webhook: aws.codebuild.Webhook;
  public readonly role: aws.iam.Role;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  /** The project's name. */
  public readonly projectName: pulumi.Output<string>;
  /** The exact `runs-on` label for a job that must run here. */
  public readonly runsOn: pulumi.Output<string>;
  /** The runner security group (no ingress). */
  public readonly securityGroupId: pulumi.Output<string>;
  /** The project's service role. */
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: CodeBuildRunnersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:CodeBuildRunners", name, {}, opts);
    const config = args.region;
    this.region = config.region;
    const projectName = runnerProjectName(args.stack, config.region);
    const source = webhookSource(args.github.owner, args.github.scope, args.repositories);
    const tags = args.tags;

    // Explicit providers do not read the stack's `aws:` settings; carry the profile over unless told otherwise.
    const profile = new pulumi.Config("aws").get("profile");
    this.provider = new aws.Provider(
      `${name}-provider`,
      { ...(profile ? { profile } : {}), ...args.providerArgs, region: config.region },
      { parent: this },
    );
    const provider = this.provider;
    const child = { parent: this, provider };

    const account = aws.getCallerIdentityOutput({}, child).accountId;
    const partition = aws.getPartitionOutput({}, child).partition;
    const location = pulumi
      .all([partition, account])
      .apply(([p, a]): AwsLocation => ({ partition: p, region: config.region, account: a }));
    const projectArn = location.apply((where) => regionalArn(where, "codebuild", `project/${projectName}`));

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/codebuild/${projectName}`, retentionInDays: args.logRetentionDays, tags },
      child,
    );

    // No ingress: builds only dial out, to GitHub and package registries through the subnets' NAT gateway and to
    // the private targets below. Egress stays open because the jobs' destinations (registries, mirrors, the
    // targets' ports) are not known here; the targets themselves admit only this group.
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.network.vpcId,
        description: `CodeBuild GitHub Actions runners ${projectName}: no ingress, egress via NAT`,
        tags: { ...tags, Name: projectName },
      },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-egress`,
      {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "GitHub, registries (through NAT) and private targets",
        tags,
      },
      child,
    );

    // Each private endpoint admits the runners on its port only, from this security group only.
    const ingress = new Map<string, { securityGroupId: string; port: number; description: string }>();
    for (const target of config.targets) {
      ingress.set(`${target.securityGroupId}-${target.port}`, {
        securityGroupId: target.securityGroupId,
        port: target.port,
        description: target.description ?? `From CodeBuild GitHub Actions runners ${projectName}`,
      });
    }
    if (config.eks) {
      ingress.set(`${config.eks.clusterSecurityGroupId}-443`, {
        securityGroupId: config.eks.clusterSecurityGroupId,
        port: 443,
        description: `Kubernetes API of ${config.eks.clusterName} from CodeBuild GitHub Actions runners ${projectName}`,
      });
    }
    for (const [key, rule] of ingress) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-to-${key}`,
        {
          securityGroupId: rule.securityGroupId,
          referencedSecurityGroupId: this.securityGroup.id,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          description: rule.description,
          tags,
        },
        child,
      );
    }

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Service role of the CodeBuild project ${projectName} (GitHub Actions runners in ${config.region})`,
        assumeRolePolicy: pulumi.all([account, projectArn]).apply(([a, arn]) => runnerTrustPolicy(a, arn)),
        tags,
      },
      child,
    );

    const statements = pulumi
      .all([location, this.logGroup.arn, args.network.privateSubnetIds, this.securityGroup.id, args.connectionArn])
      .apply(([where, logGroupArn, subnetIds, securityGroupId, connectionArn]) =>
        runnerRoleStatements({
          ...where,
          logGroupArn,
          subnetIds,
          securityGroupId,
          connectionArn,
          eksClusterName: config.eks?.clusterName,
        }),
      );
    // CodeBuild checks the VPC permissions when the project is created: the policy must exist first.
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: this.role.id, policy: policyDocument(statements) },
      child,
    );

    this.project = new aws.codebuild.Project(
      `${name}-project`,
      {
        name: projectName,
        description: `GitHub Actions runners for ${args.github.owner} in ${config.region}, inside the VPC`,
        serviceRole: this.role.arn,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: config.computeType,
          image: config.image,
          imagePullCredentialsType: "CODEBUILD",
          // Jobs here run kubectl and friends against private APIs; image builds belong on the EC2 runners.
          privilegedMode: false,
        },
        source: {
          type: "GITHUB",
          location: source.location,
          auth: args.connectionArn ? { type: "CODECONNECTIONS", resource: args.connectionArn } : undefined,
        },
        vpcConfig: {
          vpcId: args.network.vpcId,
          subnets: args.network.privateSubnetIds,
          securityGroupIds: [this.securityGroup.id],
        },
        logsConfig: {
          cloudwatchLogs: { status: "ENABLED", groupName: this.logGroup.name },
          s3Logs: { status: "DISABLED" },
        },
        buildTimeout: config.buildTimeoutMinutes,
        queuedTimeout: QUEUED_TIMEOUT_MINUTES,
        concurrentBuildLimit: args.concurrentBuildLimit,
        tags,
      },
      { ...child, dependsOn: [policy, this.logGroup] },
    );

    this.webhook = new aws.codebuild.Webhook(
      `${name}-webhook`,
      {
        projectName: this.project.name,
        buildType: "BUILD",
        filterGroups: webhookFilterGroups(args.github.scope, args.repositories).map((filters) => ({ filters })),
        scopeConfiguration: source.scopeConfiguration,
        // A job from a fork's pull request would run inside the VPC: it waits for a maintainer's approval comment.
        pullRequestBuildPolicy: { requiresCommentApproval: "FORK_PULL_REQUESTS", approverRoles: FORK_APPROVER_ROLES },
      },
      child,
    );

    if (config.eks) {
      const eks = config.eks;
      const entry = new aws.eks.AccessEntry(
        `${name}-eks-access`,
        { clusterName: eks.clusterName, principalArn: this.role.arn, type: "STANDARD", tags },
        child,
      );
      new aws.eks.AccessPolicyAssociation(
        `${name}-eks-policy`,
        {
          clusterName: eks.clusterName,
          principalArn: this.role.arn,
          policyArn: partition.apply((p) =>
            awsManagedArn({ partition: p }, "eks", `cluster-access-policy/${eks.accessPolicy}`),
          ),
          accessScope: { type: "namespace", namespaces: eks.namespaces },
        },
        { ...child, dependsOn: [entry] },
      );
    }

    this.projectName = this.project.name;
    this.runsOn = this.project.name.apply(runsOnLabel);
    this.securityGroupId = this.securityGroup.id;
    this.roleArn = this.role.arn;
    this.registerOutputs({
      region: this.region,
      projectName: this.projectName,
      runsOn: this.runsOn,
      securityGroupId: this.securityGroupId,
      roleArn: this.roleArn,
    });
  }
}
