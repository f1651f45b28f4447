/**
 * IAM documents of the ARC cluster, as pure functions of names and location. ARNs come from `contract/arn.ts`.
 *
 * References:
 * - ECR user guide, "Private repository policies" / "Pushing an image": push needs
 *   BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage; pull needs
 *   BatchGetImage and GetDownloadUrlForLayer; GetAuthorizationToken takes no resource but `*`.
 * - EKS user guide, "Pod Identity": roles trust `pods.eks.amazonaws.com` with sts:AssumeRole and sts:TagSession.
 * - kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "IAM Policy".
 */
import { type AwsLocation, arn, iamArn } from "../../contract/arn";
import type { PolicyStatement } from "../shared/iam";

const ECR_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"];
const ECR_PUSH = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"];

export function ecrRepositoryArn(where: AwsLocation, repository: string): string {
  return arn(where, "ecr", where.region, where.account, `repository/${repository}`);
}

/** Push and pull on the configured repositories only, plus the registry login AWS grants only on `*`. */
export function ecrPushPullStatements(where: AwsLocation, repositories: readonly string[]): PolicyStatement[] {
  if (repositories.length === 0) throw new Error("ecrPushPullStatements needs at least one repository");
  return [
    { Sid: "RegistryLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "PushPullConfiguredRepositories",
      Effect: "Allow",
      Action: [...ECR_PULL, ...ECR_PUSH],
      Resource: repositories.map((r) => ecrRepositoryArn(where, r)),
    },
  ];
}

/** Trust policy of a Pod Identity role, pinned to the account (a confused-deputy guard). */
export function podIdentityTrustPolicy(account: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ],
  });
}

/** An AWS managed policy (`arn:<partition>:iam::aws:policy/<name>`). */
export function managedPolicyArn(partition: string, name: string): string {
  return iamArn({ partition, account: "aws" }, `policy/${name}`);
}

/** The cluster role's and node role's managed policies (EKS user guide, "Cluster IAM role", "Node IAM role"). */
export const CLUSTER_ROLE_POLICIES = ["AmazonEKSClusterPolicy"];
export const NODE_ROLE_POLICIES = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryPullOnly",
];
/** What the CloudWatch agent and Fluent Bit of the observability add-on need (its documented policy). */
export const LOG_SHIPPER_POLICIES = ["CloudWatchAgentServerPolicy"];

/**
 * Cluster Autoscaler: read-only discovery on `*` (these actions take no resource), and scaling only of the
 * groups tagged for this cluster — EKS tags its managed node groups' Auto Scaling groups with
 * `k8s.io/cluster-autoscaler/<cluster>: owned`.
 */
export function clusterAutoscalerStatements(where: AwsLocation, clusterName: string): PolicyStatement[] {
  return [
    {
      Sid: "Discover",
      Effect: "Allow",
      Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
      ],
      Resource: "*",
    },
    {
      // Labels and taints of a node group at zero nodes come from DescribeNodegroup.
      Sid: "ReadThisClustersNodeGroups",
      Effect: "Allow",
      Action: "eks:DescribeNodegroup",
      Resource: arn(where, "eks", where.region, where.account, `nodegroup/${clusterName}/*`),
    },
    {
      Sid: "ScaleThisClustersGroups",
      Effect: "Allow",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: "*",
      Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
    },
  ];
}
