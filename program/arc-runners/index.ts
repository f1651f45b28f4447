/**
 * GitHub Actions runners on Amazon EKS through actions-runner-controller (ARC): a cluster (created or existing),
 * spot capacity per size class, the ARC controller and one runner scale set per configured entry, ECR access for
 * the runner pods through EKS Pod Identity, and their logs in CloudWatch with a retention. See docs/arc.md.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { RunnerCluster } from "./cluster";
import type { ArcConfig } from "./config";
import { RunnerLogs } from "./logs";
import { RunnerEcrAccess } from "./ecr-access";
import { SpotCapacity } from "./spot-capacity";
import { ARC, ARC_CHART_REGISTRY, controllerValues, kubeconfig, scaleSetValues } from "./values";

export * from "./capacity";
export * from "./config";
export * from "./policies";
export * from "./values";

export interface ArcRunnersArgs {
  /** Stack name: part of the default cluster name (`ci-<stack>`). */
  readonly stack: string;
  /** The validated `cirunners:arc` value (`parseArcConfig`). */
  readonly arc: ArcConfig;
  /** The stack's VPC: an existing cluster must be in it. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets of that VPC, in at least two zones: control plane and nodes. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The GitHub App shared with the EC2 pipeline: its private key stays in that one SSM SecureString parameter. */
  readonly github: {
    /** Organization (or user) whose runners these are. */
    readonly owner: string;
    readonly appId: number;
    /** Name of the SecureString parameter holding the App's private key (PEM). */
    readonly appPrivateKeyParameter: string;
    /**
     * Web URL of GitHub (not the API URL).
     * @default "https://github.com"
     */
    readonly url?: string;
  };
  /**
   * Tags for every taggable AWS child.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

export class ArcRunners extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  /** What workflows put in `runs-on`: the scale set names. */
  public readonly runsOn: string[];
  public readonly capacity: SpotCapacity;
  public readonly controller: k8s.helm.v3.Release;
  public readonly scaleSets: k8s.helm.v3.Release[];
  /** Role of the runner pods (ECR push and pull); undefined when no repository is configured. */
  public readonly ecrRoleArn?: pulumi.Output<string>;
  /** Log group of the runner pods' output (build logs). */
  public readonly buildLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: ArcRunnersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:ArcRunners", name, {}, opts);
    const child = { parent: this };
    const arc = args.arc;
    const tags = args.tags ?? {};

    const location: pulumi.Output<AwsLocation> = pulumi
      .all([aws.getPartitionOutput({}, child), aws.getRegionOutput({}, child), aws.getCallerIdentityOutput({}, child)])
      .apply(([p, r, c]) => ({ partition: p.partition, region: r.region, account: c.accountId }));

    const cluster = new RunnerCluster(
      `${name}-cluster`,
      {
        cluster: arc.cluster,
        defaultName: `ci-${args.stack}`,
        vpcId: args.vpcId,
        privateSubnetIds: args.privateSubnetIds,
        partition: location.partition,
        logRetentionDays: arc.logRetentionDays,
        tags,
      },
      child,
    );
    this.clusterName = cluster.name;

    const provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: pulumi
          .all([this.clusterName, cluster.endpoint, cluster.certificateAuthorityData, location.region])
          .apply(([clusterName, endpoint, certificateAuthorityData, region]) =>
            kubeconfig({ clusterName, endpoint, certificateAuthorityData, region }),
          ),
        enableServerSideApply: true,
      },
      child,
    );
    const k8sChild = { parent: this, provider };

    this.capacity = new SpotCapacity(
      `${name}-capacity`,
      {
        clusterName: this.clusterName,
        privateSubnetIds: args.privateSubnetIds,
        location,
        architecture: arc.architecture,
        scaleSets: arc.scaleSets,
        sizeClasses: arc.sizeClasses,
        system: arc.system,
        clusterAutoscaler: { chartVersion: arc.charts.clusterAutoscaler, imageTag: arc.charts.clusterAutoscalerImage },
        kubernetesProvider: provider,
        tags,
      },
      child,
    );

    const logs = new RunnerLogs(
      `${name}-logs`,
      { clusterName: this.clusterName, location, retentionDays: arc.logRetentionDays, tags },
      { parent: this, dependsOn: [this.capacity.podIdentityAgent] },
    );
    this.buildLogGroupName = logs.applicationLogGroup.name;

    const controllerNamespace = new k8s.core.v1.Namespace(
      `${name}-controller-ns`,
      { metadata: { name: ARC.controllerNamespace } },
      { ...k8sChild, dependsOn: [this.capacity.systemNodeGroup] },
    );
    const runnerNamespace = new k8s.core.v1.Namespace(
      `${name}-runner-ns`,
      { metadata: { name: ARC.runnerNamespace } },
      { ...k8sChild, dependsOn: [this.capacity.systemNodeGroup] },
    );

    // Read at deploy time from the EC2 pipeline's parameter; Pulumi keeps it encrypted in the state as a secret.
    const privateKey = aws.ssm.getParameterOutput(
      { name: args.github.appPrivateKeyParameter, withDecryption: true },
      child,
    );
    const githubSecret = new k8s.core.v1.Secret(
      `${name}-github-app`,
      {
        metadata: { name: ARC.githubSecret, namespace: runnerNamespace.metadata.name },
        type: "Opaque",
        // Key names from the scale set chart's values.yaml ("pre-defined secret" with a GitHub App); ids are strings.
        stringData: {
          github_app_id: String(args.github.appId),
          github_app_installation_id: String(arc.githubAppInstallationId),
          github_app_private_key: pulumi.secret(privateKey.value),
        },
      },
      k8sChild,
    );

    const runnerServiceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-runner-sa`,
      { metadata: { name: ARC.runnerServiceAccount, namespace: runnerNamespace.metadata.name } },
      k8sChild,
    );
    if (arc.ecrRepositories.length > 0) {
      const ecr = new RunnerEcrAccess(
        `${name}-ecr`,
        {
          clusterName: this.clusterName,
          location,
          repositories: arc.ecrRepositories,
          namespace: ARC.runnerNamespace,
          serviceAccount: ARC.runnerServiceAccount,
          tags,
        },
        { parent: this, dependsOn: [this.capacity.podIdentityAgent] },
      );
      this.ecrRoleArn = ecr.roleArn;
    }

    this.controller = new k8s.helm.v3.Release(
      `${name}-controller`,
      {
        name: ARC.controllerRelease,
        chart: `${ARC_CHART_REGISTRY}/gha-runner-scale-set-controller`,
        version: arc.charts.arc,
        namespace: controllerNamespace.metadata.name,
        values: controllerValues(),
      },
      k8sChild,
    );

    const githubUrl = args.github.url ?? "https://github.com";
    this.scaleSets = arc.scaleSets.map(
      (set) =>
        new k8s.helm.v3.Release(
          `${name}-${set.name}`,
          {
            name: set.name,
            chart: `${ARC_CHART_REGISTRY}/gha-runner-scale-set`,
            version: arc.charts.arc,
            namespace: runnerNamespace.metadata.name,
            values: scaleSetValues({ ...set, owner: args.github.owner, githubUrl, runnerImage: arc.runnerImage }),
          },
          { ...k8sChild, dependsOn: [this.controller, githubSecret, runnerServiceAccount] },
        ),
    );
    this.runsOn = arc.scaleSets.map((s) => s.name);

    this.registerOutputs({
      clusterName: this.clusterName,
      runsOn: this.runsOn,
      ecrRoleArn: this.ecrRoleArn,
      buildLogGroupName: this.buildLogGroupName,
    });
  }
}
