/**
 * The EKS control plane of the ARC runners: created (private or CIDR-restricted endpoint, KMS-encrypted secrets,
 * control-plane logs with a retention, access entries), or an existing cluster read by name.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { arn } from "../../contract/arn";
import { type ArcClusterConfig, isExistingCluster } from "./config";
import { CLUSTER_ROLE_POLICIES, managedPolicyArn } from "./policies";

/** EKS's access policy for full cluster administration (EKS user guide, "Access policy permissions"). */
const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";

/** The control plane's identity as the rest of the component needs it. */
export interface ClusterHandle {
  name: pulumi.Output<string>;
  endpoint: pulumi.Output<string>;
  certificateAuthorityData: pulumi.Output<string>;
}

export interface RunnerClusterArgs {
  /** `cirunners:arc.cluster`: what to create, or the existing cluster's name. */
  readonly cluster: ArcClusterConfig;
  /** Name of a created cluster when config gives none. */
  readonly defaultName: string;
  /** The stack's VPC: an existing cluster must be in it, or its nodes could not join from the stack's subnets. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets of the stack's VPC: the control plane's network interfaces go there. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** AWS partition, for managed policy and access policy ARNs. */
  readonly partition: pulumi.Input<string>;
  /** Days to keep control-plane logs. */
  readonly logRetentionDays: number;
  /**
   * Tags for every taggable child.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

export class RunnerCluster extends pulumi.ComponentResource implements ClusterHandle {
  public readonly name: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly certificateAuthorityData: pulumi.Output<string>;
  /** The created cluster (undefined for an existing one). */
  public readonly cluster?: aws.eks.Cluster;
  /** The key that encrypts Kubernetes secrets of a created cluster. */
  public readonly secretsKey?: aws.kms.Key;

  constructor(name: string, args: RunnerClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:arc:Cluster", name, {}, opts);
    const child = { parent: this };
    const config = args.cluster;
    const tags = args.tags ?? {};

    if (isExistingCluster(config)) {
      const existing = aws.eks.getClusterOutput({ name: config.existingName }, child);
      this.name = pulumi
        .all([existing.name, existing.vpcConfig.vpcId, args.vpcId])
        .apply(([found, clusterVpc, stackVpc]) => {
          if (clusterVpc !== stackVpc)
            throw new Error(
              `cirunners:arc.cluster.existingName: cluster ${found} is in ${clusterVpc}, not in the stack's VPC ${stackVpc}`,
            );
          return found;
        });
      this.endpoint = existing.endpoint;
      this.certificateAuthorityData = existing.certificateAuthorities.apply((cas) => cas[0]?.data ?? "");
      this.registerOutputs({ name: this.name, endpoint: this.endpoint });
      return;
    }

    const clusterName = config.name ?? args.defaultName;
    // Created first so that EKS writes into a group with a retention instead of creating one that keeps forever.
    const controlPlaneLogs = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      { name: `/aws/eks/${clusterName}/cluster`, retentionInDays: args.logRetentionDays, tags },
      child,
    );

    this.secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      {
        description: `Envelope encryption of Kubernetes secrets in EKS cluster ${clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      },
      child,
    );
    new aws.kms.Alias(
      `${name}-secrets-key-alias`,
      { name: `alias/eks/${clusterName}-secrets`, targetKeyId: this.secretsKey.keyId },
      child,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `EKS control plane of ${clusterName}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "eks.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession"],
            },
          ],
        }),
        tags,
      },
      child,
    );
    const attachments = CLUSTER_ROLE_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: role.name, policyArn: pulumi.output(args.partition).apply((p) => managedPolicyArn(p, policy)) },
          child,
        ),
    );

    const publicCidrs = config.publicAccessCidrs ?? [];
    this.cluster = new aws.eks.Cluster(
      `${name}-cluster`,
      {
        name: clusterName,
        version: config.version,
        roleArn: role.arn,
        vpcConfig: {
          subnetIds: args.privateSubnetIds,
          endpointPrivateAccess: true,
          // Public only when config lists who may reach it; never the provider's 0.0.0.0/0 default.
          endpointPublicAccess: publicCidrs.length > 0,
          ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { provider: { keyArn: this.secretsKey.arn }, resources: ["secrets"] },
        enabledClusterLogTypes: config.logTypes,
        tags,
      },
      { ...child, dependsOn: [controlPlaneLogs, ...attachments] },
    );

    for (const [i, principalArn] of config.adminPrincipalArns.entries()) {
      const entry = new aws.eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: this.cluster.name, principalArn, type: "STANDARD", tags },
        child,
      );
      new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}-policy`,
        {
          clusterName: this.cluster.name,
          principalArn,
          policyArn: pulumi
            .output(args.partition)
            .apply((partition) =>
              arn({ partition }, "eks", "", "aws", `cluster-access-policy/${CLUSTER_ADMIN_POLICY}`),
            ),
          accessScope: { type: "cluster" },
        },
        { ...child, dependsOn: [entry] },
      );
    }

    this.name = this.cluster.name;
    this.endpoint = this.cluster.endpoint;
    this.certificateAuthorityData = this.cluster.certificateAuthority.apply((ca) => ca?.data ?? "");
    this.registerOutputs({ name: this.name, endpoint: this.endpoint });
  }
}
