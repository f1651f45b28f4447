/**
 * The program: reads and validates the stack configuration, then composes the components.
 *
 *   network            the runners' private network (created, or the one config names)
 *   runners            ephemeral EC2 runners: webhook ingress → job queue → launcher → one instance per job
 *   codebuild-<region> CodeBuild-hosted runners inside a VPC, one project per configured region
 *   task-<name>        one-shot tasks (migrations): GitHub OIDC → ECR → Step Functions → ECS Fargate
 *   arc                runners on EKS through actions-runner-controller (only when `cirunners:arc` is set)
 *   runner-images      EC2 Image Builder pipeline per architecture (only when a pool has `image: baked`)
 *   ai-review          the OIDC role for pull-request AI review through Bedrock (only when `cirunners:aiReview` is set)
 */
import * as pulumi from "@pulumi/pulumi";
import { ArcRunners } from "./arc-runners";
import { AiReviewRole } from "./ai-review";
import { isExistingNetwork, loadStackConfig } from "./config";
import { CodeBuildRunners, githubConnection } from "./codebuild-runners";
import { EphemeralRunners } from "./ephemeral-runners";
import { githubOidcProvider } from "./github-oidc";
import { RunnerNetwork } from "./network";
import { bakedArchitectures, RUNNER_IMAGES_COMPONENT } from "./runner-images/names";
import { RunnerImages } from "./runner-images/runner-images";
import { awsLocation } from "./shared/location";
import { TaskRunner } from "./task-runner";

const config = loadStackConfig();
const tags = { "cirunners:stack": config.stack, "managed-by": "pulumi" };

const network = new RunnerNetwork("network", {
  network: config.network,
  logRetentionDays: config.logRetentionDays,
  tags,
});

const runners = new EphemeralRunners("runners", {
  stack: config.stack,
  github: config.github,
  runners: config.runners,
  network: { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds },
  logRetentionDays: config.logRetentionDays,
  alarmTopicArn: config.alarmTopicArn,
  tags,
});

// Baked images are built in the stack's private subnets from the runner cache, one pipeline per architecture in use.
// The parameters they publish to belong to the runners (their launch templates read them).
const imageArchitectures = bakedArchitectures(config.runners.pools);
const runnerImages =
  imageArchitectures.length > 0
    ? new RunnerImages(RUNNER_IMAGES_COMPONENT, {
        stack: config.stack,
        architectures: imageArchitectures,
        cacheBucket: runners.runnerCacheBucket,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        location: awsLocation({}),
        settings: config.runnerImages,
        logRetentionDays: config.logRetentionDays,
        tags,
      })
    : undefined;

// CodeBuild: one connection to GitHub for the organization, one project per region.
const codebuild = config.codebuild;
const connection = codebuild
  ? githubConnection("github", { stack: config.stack, connectionName: codebuild.connectionName, tags })
  : undefined;
const codebuildRunners = (codebuild?.regions ?? []).map(
  (region) =>
    new CodeBuildRunners(`codebuild-${region.region}`, {
      stack: config.stack,
      region,
      // Only the stack's own region may omit its VPC (config validation enforces it): it uses the stack's network.
      network:
        region.vpcId && region.privateSubnetIds
          ? { vpcId: region.vpcId, privateSubnetIds: region.privateSubnetIds }
          : { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds },
      github: config.github,
      repositories: codebuild?.repositories ?? [],
      connectionArn: connection?.arn,
      logRetentionDays: config.logRetentionDays,
      tags,
    }),
);

// One-shot tasks and the AI review role share the account's GitHub OIDC provider.
const oidcProviderArn =
  config.tasks.length > 0 || config.aiReview
    ? githubOidcProvider("github-actions", { existingProviderArn: config.githubOidcProviderArn, tags })
    : undefined;
const tasks = config.tasks.map(
  (task) =>
    new TaskRunner(`task-${task.name}`, {
      stack: config.stack,
      task,
      oidcProviderArn: oidcProviderArn!,
      network: { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds },
      githubOwner: config.github.owner,
      logRetentionDays: config.logRetentionDays,
      tags,
    }),
);

const aiReview = config.aiReview
  ? new AiReviewRole("ai-review", {
      config: config.aiReview,
      oidcProviderArn: oidcProviderArn!,
      githubOwner: config.github.owner,
      tags,
    })
  : undefined;

// Runners on EKS share the GitHub App (its key stays in the one SSM parameter) and the stack's private network.
const arc = config.arc
  ? new ArcRunners("arc", {
      stack: config.stack,
      arc: config.arc,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      github: {
        owner: config.github.owner,
        appId: config.github.appId,
        appPrivateKeyParameter: config.github.appPrivateKeyParameter,
        url: githubWebUrl(config.github.apiUrl),
      },
      tags,
    })
  : undefined;

/**
 * ARC wants GitHub's web URL, the config holds the API's: `api.github.com` → `github.com` (and `api.<x>.ghe.com` →
 * `<x>.ghe.com`); a GitHub Enterprise Server serves its API under `<host>/api/v3`.
 */
function githubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname.startsWith("api.")) return `https://${url.hostname.slice(4)}`;
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, "")}`.replace(/\/+$/, "");
}

export const vpcId = network.vpcId;
export const webhookUrl = runners.webhookUrl;
export const jobQueueUrl = runners.jobQueue.url;
export const networkSource = isExistingNetwork(config.network) ? "existing" : "created";
export const codebuildProjects = codebuildRunners.map((r) => ({
  region: r.region,
  projectName: r.projectName,
  runsOn: r.runsOn,
}));
export const codebuildConnectionArn = connection?.arn;
export const taskRunners = tasks.map((t) => ({
  roleArn: t.roleArn,
  repositoryUrl: t.repositoryUrl,
  stateMachineArn: t.stateMachineArn,
}));
export const ledgerTableName = runners.ledger.tableName;
export const dashboardName = runners.dashboard.dashboard.dashboardName;
export const arcRunners = arc && {
  clusterName: arc.clusterName,
  runsOn: arc.runsOn,
  ecrRoleArn: arc.ecrRoleArn,
  buildLogGroupName: arc.buildLogGroupName,
};
export const runnerImageParameters = runnerImages?.parameterNames;
export const aiReviewRoleArn = aiReview?.roleArn;
export const stack = pulumi.getStack();
