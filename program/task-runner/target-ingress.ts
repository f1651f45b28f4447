/**
 * Ingress on the security groups a workload dials: a target given as a security group admits the workload's own
 * group on the target's port, so "the task may reach the database" is one config entry, not two changes in two
 * places. Shaped after the CodeBuild runners' target rules (program/codebuild-runners), as a helper any component
 * can call.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** A destination security group and the TCP port the workload connects to. */
export interface IngressTarget {
  securityGroupId: string;
  port: number;
  description: string;
}

/** One rule per (group, port): two entries for the same database and port would otherwise collide in AWS. */
export function uniqueTargets(targets: readonly IngressTarget[]): IngressTarget[] {
  const byKey = new Map<string, IngressTarget>();
  for (const target of targets) {
    const key = `${target.securityGroupId}-${target.port}`;
    if (!byKey.has(key)) byKey.set(key, target);
  }
  return [...byKey.values()];
}

/**
 * Creates on each target group an ingress rule from `sourceSecurityGroupId` on the target's port (TCP only),
 * named `<name>-to-<group>-<port>`, as children of `opts.parent`.
 */
export function targetIngressRules(
  name: string,
  sourceSecurityGroupId: pulumi.Input<string>,
  targets: readonly IngressTarget[],
  opts: pulumi.CustomResourceOptions & { tags?: Record<string, string> },
): aws.vpc.SecurityGroupIngressRule[] {
  const { tags, ...resourceOptions } = opts;
  return uniqueTargets(targets).map(
    (target) =>
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-to-${target.securityGroupId}-${target.port}`,
        {
          securityGroupId: target.securityGroupId,
          referencedSecurityGroupId: sourceSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: target.port,
          toPort: target.port,
          description: target.description,
          tags,
        },
        resourceOptions,
      ),
  );
}
