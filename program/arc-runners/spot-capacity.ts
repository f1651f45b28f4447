/**
 * Nodes for the ARC runners: an on-demand system node group (controller, listeners, autoscaler, CoreDNS) and one
 * spot managed node group per size class in use, each from a launch template with an encrypted gp3 root volume
 * and IMDSv2 at hop limit 1. The Cluster Autoscaler grows a spot group from zero when runner pods are pending and
 * empties it when they are gone.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { policyDocument } from "../shared/iam";
import {
  type Architecture,
  amiTypeFor,
  instanceTypesFor,
  maxNodesFor,
  NODE_METADATA_OPTIONS,
  rootVolume,
  runnerNodeLabels,
  runnerNodeTaint,
  type SizeClass,
  SYSTEM_NODE_LABEL,
  systemInstanceTypesFor,
  usedSizeClasses,
} from "./capacity";
import { clusterAutoscalerStatements, managedPolicyArn, NODE_ROLE_POLICIES, podIdentityTrustPolicy } from "./policies";
import { CLUSTER_AUTOSCALER, CLUSTER_AUTOSCALER_REPOSITORY, clusterAutoscalerValues } from "./values";

/** Root volume of the system nodes (images of the controller and add-ons only). */
const SYSTEM_DISK_GIB = 40;

export interface SpotCapacityArgs {
  /** The cluster the node groups join. */
  readonly clusterName: pulumi.Input<string>;
  /** Private subnets (several zones widen the spot pools). */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Partition, region and account of the stack, for ARNs. */
  readonly location: pulumi.Input<AwsLocation>;
  readonly architecture: Architecture;
  /** The scale sets' size classes and ceilings: each class in use gets a node group sized for them. */
  readonly scaleSets: ReadonlyArray<{ sizeClass: SizeClass; maxRunners: number }>;
  /**
   * Per-class overrides from `cirunners:arc.sizeClasses`.
   * @default {} (diversified default types, 100 GiB disks, one node per runner at most)
   */
  readonly sizeClasses?: Partial<
    Record<SizeClass, { instanceTypes?: string[]; maxNodes?: number; diskSizeGiB: number }>
  >;
  /**
   * The system node group.
   * @default { nodes: 2 } on the architecture's default small types
   */
  readonly system?: { instanceTypes?: string[]; nodes: number };
  /** Cluster Autoscaler chart version and image tag (the tag's minor is the cluster's). */
  readonly clusterAutoscaler: { chartVersion: string; imageTag: string };
  /** Provider for the autoscaler's Helm release. */
  readonly kubernetesProvider: k8s.Provider;
  /**
   * Tags for every taggable child.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

export class SpotCapacity extends pulumi.ComponentResource {
  public readonly nodeRole: aws.iam.Role;
  public readonly systemNodeGroup: aws.eks.NodeGroup;
  /** Spot node groups by size class. */
  public readonly runnerNodeGroups: Partial<Record<SizeClass, aws.eks.NodeGroup>>;
  public readonly podIdentityAgent: aws.eks.Addon;
  public readonly autoscaler: k8s.helm.v3.Release;

  constructor(name: string, args: SpotCapacityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:arc:SpotCapacity", name, {}, opts);
    const child = { parent: this };
    const tags = args.tags ?? {};
    const location = pulumi.output(args.location);

    this.nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        description: "EKS nodes of the ARC runners (pods cannot reach it: IMDS hop limit 1)",
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags,
      },
      child,
    );
    const nodePolicies = NODE_ROLE_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: this.nodeRole.name, policyArn: location.apply((l) => managedPolicyArn(l.partition, policy)) },
          child,
        ),
    );

    // EKS creates the access entry of a managed node group's role itself (API authentication mode).
    const nodeGroup = (groupName: string, spec: NodeGroupSpec) => {
      const template = new aws.ec2.LaunchTemplate(
        `${name}-${groupName}-lt`,
        {
          description: `EKS nodes ${groupName}: encrypted gp3 root volume, IMDSv2 with hop limit 1`,
          blockDeviceMappings: [rootVolume(spec.diskSizeGiB)],
          metadataOptions: NODE_METADATA_OPTIONS,
          tagSpecifications: ["instance", "volume"].map((resourceType) => ({
            resourceType,
            tags: { ...tags, Name: `${groupName}` },
          })),
          updateDefaultVersion: true,
          tags,
        },
        child,
      );
      return new aws.eks.NodeGroup(
        `${name}-${groupName}`,
        {
          clusterName: args.clusterName,
          nodeRoleArn: this.nodeRole.arn,
          subnetIds: args.privateSubnetIds,
          amiType: amiTypeFor(args.architecture),
          capacityType: spec.capacityType,
          instanceTypes: spec.instanceTypes,
          launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
          scalingConfig: spec.scaling,
          labels: spec.labels,
          taints: spec.taints,
          updateConfig: { maxUnavailablePercentage: 33 },
          tags,
        },
        // The autoscaler owns desiredSize once the group exists.
        { ...child, dependsOn: nodePolicies, ignoreChanges: ["scalingConfig.desiredSize"] },
      );
    };

    const systemNodes = args.system?.nodes ?? 2;
    this.systemNodeGroup = nodeGroup("system", {
      capacityType: "ON_DEMAND",
      instanceTypes: systemInstanceTypesFor(args.architecture, args.system?.instanceTypes),
      diskSizeGiB: SYSTEM_DISK_GIB,
      scaling: { minSize: systemNodes, desiredSize: systemNodes, maxSize: systemNodes + 1 },
      labels: { ...SYSTEM_NODE_LABEL },
      taints: [],
    });

    this.runnerNodeGroups = {};
    for (const sizeClass of usedSizeClasses(args.scaleSets)) {
      const settings = args.sizeClasses?.[sizeClass];
      this.runnerNodeGroups[sizeClass] = nodeGroup(`runners-${sizeClass}`, {
        capacityType: "SPOT",
        instanceTypes: instanceTypesFor(sizeClass, args.architecture, settings?.instanceTypes),
        diskSizeGiB: settings?.diskSizeGiB ?? 100,
        // From zero: no runner node costs anything while no job runs.
        scaling: { minSize: 0, desiredSize: 0, maxSize: maxNodesFor(sizeClass, args.scaleSets, settings?.maxNodes) },
        labels: runnerNodeLabels(sizeClass),
        taints: [runnerNodeTaint(sizeClass)],
      });
    }

    this.podIdentityAgent = new aws.eks.Addon(
      `${name}-pod-identity-agent`,
      {
        clusterName: args.clusterName,
        addonName: "eks-pod-identity-agent",
        resolveConflictsOnUpdate: "OVERWRITE",
        tags,
      },
      { ...child, dependsOn: [this.systemNodeGroup] },
    );

    const clusterName = pulumi.output(args.clusterName);
    const autoscalerRole = new aws.iam.Role(
      `${name}-autoscaler-role`,
      {
        description: "Cluster Autoscaler of the ARC runners (Pod Identity)",
        assumeRolePolicy: location.apply((l) => podIdentityTrustPolicy(l.account)),
        tags,
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-autoscaler-policy`,
      {
        role: autoscalerRole.id,
        policy: policyDocument(
          pulumi.all([location, clusterName]).apply(([l, c]) => clusterAutoscalerStatements(l, c)),
        ),
      },
      child,
    );
    const association = new aws.eks.PodIdentityAssociation(
      `${name}-autoscaler-identity`,
      {
        clusterName: args.clusterName,
        namespace: CLUSTER_AUTOSCALER.namespace,
        serviceAccount: CLUSTER_AUTOSCALER.serviceAccount,
        roleArn: autoscalerRole.arn,
        tags,
      },
      { ...child, dependsOn: [this.podIdentityAgent] },
    );
    this.autoscaler = new k8s.helm.v3.Release(
      `${name}-autoscaler`,
      {
        name: "cluster-autoscaler",
        chart: "cluster-autoscaler",
        repositoryOpts: { repo: CLUSTER_AUTOSCALER_REPOSITORY },
        version: args.clusterAutoscaler.chartVersion,
        namespace: CLUSTER_AUTOSCALER.namespace,
        values: pulumi
          .all([clusterName, location])
          .apply(([c, l]) =>
            clusterAutoscalerValues({ clusterName: c, region: l.region, imageTag: args.clusterAutoscaler.imageTag }),
          ),
      },
      { ...child, provider: args.kubernetesProvider, dependsOn: [association, this.systemNodeGroup] },
    );

    this.registerOutputs({
      nodeRoleArn: this.nodeRole.arn,
      runnerNodeGroups: Object.fromEntries(
        Object.entries(this.runnerNodeGroups).map(([c, g]) => [c, g?.nodeGroupName]),
      ),
    });
  }
}

interface NodeGroupSpec {
  capacityType: "ON_DEMAND" | "SPOT";
  instanceTypes: string[];
  diskSizeGiB: number;
  scaling: { minSize: number; desiredSize: number; maxSize: number };
  labels: Record<string, string>;
  taints: ReturnType<typeof runnerNodeTaint>[];
}
