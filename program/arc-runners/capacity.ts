/**
 * Pure decisions about the runners' spot capacity: which instance types each size class spreads over, how runner
 * pods find their nodes (label and taint), what each runner pod requests, and the nodes' root volume and IMDS
 * settings. Kept free of Pulumi resources so that each rule has its own test.
 */

/** Size classes a scale set picks from; each gets its own spot node group. */
export const SIZE_CLASSES = ["default", "cpu-heavy", "memory-heavy"] as const;
export type SizeClass = (typeof SIZE_CLASSES)[number];
export type Architecture = "x64" | "arm64";

/**
 * Spot diversification: several current and previous generation families of the same vCPU and memory per class,
 * so that the autoscaler's node template (built from one type) is right for all of them and one exhausted spot
 * pool leaves others (AWS "Best practices for EC2 Spot": be flexible across instance types and zones).
 */
const DIVERSIFIED_TYPES: Record<Architecture, Record<SizeClass, string[]>> = {
  x64: {
    // 4 vCPU, 16 GiB
    default: ["m7i.xlarge", "m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge", "m7a.xlarge"],
    // 8 vCPU, 16 GiB
    "cpu-heavy": ["c7i.2xlarge", "c6i.2xlarge", "c6a.2xlarge", "c5.2xlarge", "c5a.2xlarge", "c7a.2xlarge"],
    // 4 vCPU, 32 GiB
    "memory-heavy": ["r7i.xlarge", "r6i.xlarge", "r6a.xlarge", "r5.xlarge", "r5a.xlarge", "r7a.xlarge"],
  },
  arm64: {
    default: ["m7g.xlarge", "m6g.xlarge", "m8g.xlarge", "m6gd.xlarge"],
    "cpu-heavy": ["c7g.2xlarge", "c6g.2xlarge", "c8g.2xlarge", "c6gn.2xlarge"],
    "memory-heavy": ["r7g.xlarge", "r6g.xlarge", "r8g.xlarge", "r6gd.xlarge"],
  },
};

/** Small on-demand types for the always-on system nodes (controller, listeners, autoscaler, CoreDNS). */
const SYSTEM_TYPES: Record<Architecture, string[]> = {
  x64: ["m7i.large", "m6i.large"],
  arm64: ["m7g.large", "m6g.large"],
};

/**
 * What each runner pod requests by default: sized so that two or three runners share a node of the class after
 * the kubelet's and DaemonSets' reservations. The chart's dind sidecar has no requests of its own, so these
 * cover the docker builds it runs too.
 */
const RUNNER_REQUESTS: Record<SizeClass, { cpu: string; memory: string }> = {
  default: { cpu: "1", memory: "4Gi" },
  "cpu-heavy": { cpu: "3", memory: "6Gi" },
  "memory-heavy": { cpu: "1500m", memory: "12Gi" },
};

/** Graviton (arm64) families: a1, or a digit followed by "g" (m7g, c6gn, r6gd). */
export function instanceTypeArchitecture(instanceType: string): Architecture {
  const family = instanceType.split(".")[0];
  return family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "x64";
}

/** The instance types of a size class: the configured list, or the diversified default. */
export function instanceTypesFor(sizeClass: SizeClass, architecture: Architecture, configured?: string[]): string[] {
  return configured && configured.length > 0 ? [...configured] : [...DIVERSIFIED_TYPES[architecture][sizeClass]];
}

export function systemInstanceTypesFor(architecture: Architecture, configured?: string[]): string[] {
  return configured && configured.length > 0 ? [...configured] : [...SYSTEM_TYPES[architecture]];
}

/** EKS-optimised Amazon Linux 2023 image for the architecture (NodeGroup `amiType`). */
export function amiTypeFor(architecture: Architecture): string {
  return architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

/** Label and taint key that tie runner pods to their class's nodes and keep every other pod off them. */
export const SIZE_CLASS_KEY = "cirunners.io/size-class";
/** Label of the on-demand system nodes. */
export const SYSTEM_NODE_LABEL = { "cirunners.io/role": "system" } as const;

export function runnerNodeLabels(sizeClass: SizeClass): Record<string, string> {
  return { [SIZE_CLASS_KEY]: sizeClass };
}

export function runnerNodeTaint(sizeClass: SizeClass): { key: string; value: string; effect: "NO_SCHEDULE" } {
  return { key: SIZE_CLASS_KEY, value: sizeClass, effect: "NO_SCHEDULE" };
}

/** The pod-side toleration matching `runnerNodeTaint` (Kubernetes spells the effect `NoSchedule`). */
export function runnerToleration(sizeClass: SizeClass) {
  return { key: SIZE_CLASS_KEY, operator: "Equal", value: sizeClass, effect: "NoSchedule" };
}

export function runnerRequests(
  sizeClass: SizeClass,
  override: { cpu?: string; memory?: string } = {},
): { cpu: string; memory: string } {
  const base = RUNNER_REQUESTS[sizeClass];
  return { cpu: override.cpu ?? base.cpu, memory: override.memory ?? base.memory };
}

/** Size classes the scale sets use, in the declared order: only these get node groups. */
export function usedSizeClasses(scaleSets: ReadonlyArray<{ sizeClass: SizeClass }>): SizeClass[] {
  return SIZE_CLASSES.filter((c) => scaleSets.some((s) => s.sizeClass === c));
}

/** A class's node ceiling: configured, or one node per runner of its scale sets (never too few). */
export function maxNodesFor(
  sizeClass: SizeClass,
  scaleSets: ReadonlyArray<{ sizeClass: SizeClass; maxRunners: number }>,
  configured?: number,
): number {
  if (configured !== undefined) return configured;
  return scaleSets.filter((s) => s.sizeClass === sizeClass).reduce((sum, s) => sum + s.maxRunners, 0);
}

/** AL2023 EKS images boot from /dev/xvda (their `RootDeviceName`). */
export const ROOT_DEVICE_NAME = "/dev/xvda";

/** The launch template's root volume: gp3, encrypted, gone with the node. */
export function rootVolume(diskSizeGiB: number) {
  return {
    deviceName: ROOT_DEVICE_NAME,
    ebs: {
      volumeSize: diskSizeGiB,
      volumeType: "gp3",
      // @pulumi/aws 7 types these flags as strings.
      encrypted: "true",
      deleteOnTermination: "true",
    },
  };
}

/**
 * IMDSv2 only, and a hop limit of 1: a pod's packets to 169.254.169.254 cross one more hop (its network namespace)
 * and are dropped, so runner pods cannot take the node role's credentials (EKS best practices, "Restrict access
 * to the instance profile assigned to the worker node"). Pods get AWS access through Pod Identity instead.
 */
export const NODE_METADATA_OPTIONS = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 1,
} as const;
