/**
 * Helm values and the kubeconfig, as pure functions. Value names are those of the charts' own values.yaml:
 * - actions/actions-runner-controller charts/gha-runner-scale-set-controller/values.yaml (serviceAccount,
 *   nodeSelector, flags) and charts/gha-runner-scale-set/values.yaml (githubConfigUrl, githubConfigSecret,
 *   runnerScaleSetName, runnerGroup, minRunners, maxRunners, containerMode, controllerServiceAccount, template);
 *   in dind mode the chart keeps the runner container's image, command and resources and every template.spec key
 *   but containers/volumes/initContainers (templates/autoscalingrunnerset.yaml, _helpers.tpl).
 * - kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/values.yaml (autoDiscovery.clusterName,
 *   awsRegion, image.tag, rbac.serviceAccount.name, nodeSelector, extraArgs).
 */
import { runnerRequests, runnerToleration, SIZE_CLASS_KEY, type SizeClass, SYSTEM_NODE_LABEL } from "./capacity";

/** Where ARC's charts are published (OCI). */
export const ARC_CHART_REGISTRY = "oci://ghcr.io/actions/actions-runner-controller-charts";
export const CLUSTER_AUTOSCALER_REPOSITORY = "https://kubernetes.github.io/autoscaler";

/** Namespaces and names ARC's quick start uses; fixed so that scale sets can name the controller explicitly. */
export const ARC = {
  controllerNamespace: "arc-systems",
  runnerNamespace: "arc-runners",
  controllerRelease: "arc",
  controllerServiceAccount: "arc-gha-rs-controller",
  /** Runner pods' service account: the Pod Identity association gives it the ECR role. */
  runnerServiceAccount: "arc-runner",
  githubSecret: "github-app",
} as const;

export const CLUSTER_AUTOSCALER = { namespace: "kube-system", serviceAccount: "cluster-autoscaler" } as const;

export function controllerValues() {
  return {
    serviceAccount: { create: true, name: ARC.controllerServiceAccount },
    // The controller must outlive spot interruptions: it stays on the on-demand system nodes.
    nodeSelector: { ...SYSTEM_NODE_LABEL },
    flags: { logLevel: "info", logFormat: "json" },
  };
}

export interface ScaleSetValuesInput {
  /** Scale set name: what workflows put in `runs-on`. */
  name: string;
  /** GitHub organization (or user) login. */
  owner: string;
  /** https://github.com, or a GitHub Enterprise Server URL. */
  githubUrl: string;
  sizeClass: SizeClass;
  minRunners: number;
  maxRunners: number;
  runnerGroup?: string;
  runnerImage: string;
  cpu?: string;
  memory?: string;
}

/**
 * One scale set's values. dind, not kubernetes mode: kubernetes mode runs job steps as separate pods through
 * container hooks and has no docker daemon, so `docker build` fails there; dind gives each runner pod its own
 * daemon (a privileged sidecar), which is why runner pods live on their own tainted nodes.
 */
export function scaleSetValues(input: ScaleSetValuesInput) {
  return {
    githubConfigUrl: `${input.githubUrl.replace(/\/+$/, "")}/${input.owner}`,
    githubConfigSecret: ARC.githubSecret,
    runnerScaleSetName: input.name,
    ...(input.runnerGroup ? { runnerGroup: input.runnerGroup } : {}),
    minRunners: input.minRunners,
    maxRunners: input.maxRunners,
    containerMode: { type: "dind" },
    // Explicit, so that installing a scale set does not depend on the chart's discovery lookup.
    controllerServiceAccount: { namespace: ARC.controllerNamespace, name: ARC.controllerServiceAccount },
    template: {
      spec: {
        serviceAccountName: ARC.runnerServiceAccount,
        nodeSelector: { [SIZE_CLASS_KEY]: input.sizeClass },
        tolerations: [runnerToleration(input.sizeClass)],
        containers: [
          {
            name: "runner",
            image: input.runnerImage,
            command: ["/home/runner/run.sh"],
            resources: { requests: runnerRequests(input.sizeClass, { cpu: input.cpu, memory: input.memory }) },
          },
        ],
      },
    },
  };
}

export function clusterAutoscalerValues(input: { clusterName: string; region: string; imageTag: string }) {
  return {
    cloudProvider: "aws",
    awsRegion: input.region,
    autoDiscovery: { clusterName: input.clusterName },
    image: { tag: input.imageTag },
    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER.serviceAccount } },
    nodeSelector: { ...SYSTEM_NODE_LABEL },
    extraArgs: {
      // Runner pods use emptyDir volumes (dind): without this, nodes running them would never be scaled down.
      "skip-nodes-with-local-storage": false,
      "balance-similar-node-groups": true,
      expander: "least-waste",
      // Idle runner nodes cost money; ARC deletes a runner pod as soon as its job ends.
      "scale-down-unneeded-time": "5m",
    },
  };
}

/**
 * A kubeconfig for the cluster whose token comes from `aws eks get-token` at each use (no long-lived credential in
 * the state). The deployer needs the AWS CLI and an access entry on the cluster.
 */
export function kubeconfig(input: {
  clusterName: string;
  endpoint: string;
  certificateAuthorityData: string;
  region: string;
}): string {
  if (!input.endpoint || !input.certificateAuthorityData)
    throw new Error(`cluster ${input.clusterName} has no endpoint or certificate authority yet`);
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: input.clusterName,
        cluster: { server: input.endpoint, "certificate-authority-data": input.certificateAuthorityData },
      },
    ],
    users: [
      {
        name: input.clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              input.clusterName,
              "--region",
              input.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
    contexts: [{ name: input.clusterName, context: { cluster: input.clusterName, user: input.clusterName } }],
    "current-context": input.clusterName,
  });
}
