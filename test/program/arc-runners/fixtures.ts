import type { ArcConfigInput } from "../../../program/arc-runners/config";

/** A stack's `cirunners:arc` as the YAML would give it: a created cluster and two scale sets. */
export function prodArc(): ArcConfigInput {
  return {
    cluster: { version: "1.33", publicAccessCidrs: ["203.0.113.0/24"] },
    charts: { arc: "0.14.2", clusterAutoscaler: "9.59.0", clusterAutoscalerImage: "v1.33.0" },
    githubAppInstallationId: 51234567,
    ecrRepositories: ["orders-service", "platform/tools"],
    scaleSets: [
      { name: "arc-linux", maxRunners: 30, runnerGroup: "arc-prod" },
      { name: "arc-linux-cpu", sizeClass: "cpu-heavy", minRunners: 1, maxRunners: 10 },
    ],
  };
}
