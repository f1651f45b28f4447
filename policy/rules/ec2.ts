// EC2 policies for the runner fleet: terminate on shutdown (not for EKS node group templates), IMDSv2, no public IPs
// (EBS volumes: rules/ebs.ts). The IMDS and public-IP rules apply to node group templates too: EKS accepts both.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { ExemptionConfig } from "../lib/exemptions";
import { defineResourcePolicy, defineStackPolicy, stackExempt } from "../lib/kit";
import { nodeGroupLaunchTemplates } from "../lib/node-groups";
import { type InstanceProps, type LaunchTemplateProps, T } from "../lib/types";
import { boolish, isRecord, isUnknown, show } from "../lib/unknown";

const INSTANCE_TYPES = [T.launchTemplate, T.instance] as const;

export const RUNNER_TAGS = ["ec2", "runners"];

// ---------------------------------------------------------------------------------------------------------

/** Instances launched from a launch template inherit settings they do not set themselves. */
function inheritsFromLaunchTemplate(type: string, props: InstanceProps, value: unknown): boolean {
  return (
    type === T.instance &&
    (value === undefined || value === null) &&
    props.launchTemplate !== undefined &&
    props.launchTemplate !== null
  );
}

// aws-ec2-instance-terminate-on-shutdown — a STACK policy, because whether a launch template is a runner template
// is a property of the stack: a template that an EKS managed node group launches its nodes from must NOT set the
// shutdown behaviour (EKS rejects TerminateInstances in a node group's template; its autoscaling group owns the
// nodes' lifecycle), and only the stack shows which node group uses which template (lib/node-groups.ts). One stack
// policy rather than a resource policy for instances plus a stack policy for templates: the policy keeps its one
// name, level and exemption config. The props are outputs here (AnalyzeStack), where an unset string may be "".

/** Why this instance or launch template does not terminate on shutdown, or undefined. */
function shutdownProblem(type: string, props: InstanceProps): string | undefined {
  const raw = props.instanceInitiatedShutdownBehavior;
  const value = raw === "" ? undefined : raw;
  if (isUnknown(value) || value === "terminate" || inheritsFromLaunchTemplate(type, props, value)) {
    return undefined;
  }
  return (
    `instanceInitiatedShutdownBehavior is ${value === undefined || value === null ? 'not set (the default is "stop")' : `"${String(value)}"`}: ` +
    `a runner that powers off stays as a stopped instance with its EBS volume. Set instanceInitiatedShutdownBehavior: "terminate".`
  );
}

export const terminateOnShutdown: StackValidationPolicy = defineStackPolicy<ExemptionConfig>({
  name: "aws-ec2-instance-terminate-on-shutdown",
  description:
    'Launch templates and instances must set instanceInitiatedShutdownBehavior: "terminate" (ephemeral runners delete themselves on poweroff); ' +
    "launch templates of EKS managed node groups are not runner templates and must not set it.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set instanceInitiatedShutdownBehavior: "terminate" so that `poweroff` at the end of a job (or after a failed bootstrap) deletes the ' +
    "instance instead of leaving a stopped orphan with its volume. Long-lived instances can be exempted by name or tag in the policy config. " +
    "A launch template for an aws.eks.NodeGroup is recognised when the node group's launchTemplate references it (launchTemplate: { id: template.id, ... }).",
  tags: RUNNER_TAGS,
  types: INSTANCE_TYPES,
  check: ({ resources, ofType, config, report }) => {
    const nodeGroupTemplates = nodeGroupLaunchTemplates(resources);
    for (const type of INSTANCE_TYPES) {
      for (const r of ofType(type)) {
        if (stackExempt(r, config) || nodeGroupTemplates.has(r.urn)) continue;
        const problem = shutdownProblem(type, r.props as InstanceProps);
        if (problem) report(problem, r.urn);
      }
    }
  },
});

export const imdsv2Required: ResourceValidationPolicy = defineResourcePolicy<LaunchTemplateProps & InstanceProps>({
  name: "aws-ec2-instance-imdsv2-required",
  description: 'Launch templates and instances must require IMDSv2 (metadataOptions.httpTokens: "required").',
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } (hop limit 1 keeps job ' +
    'containers away from the instance role\'s credentials), or httpEndpoint: "disabled" if the instance never needs metadata.',
  tags: [...RUNNER_TAGS, "imds"],
  types: INSTANCE_TYPES,
  check: ({ type, props, report }) => {
    const options = props.metadataOptions;
    if (isUnknown(options) || inheritsFromLaunchTemplate(type, props, options)) {
      return;
    }
    if (!isRecord(options)) {
      report(
        'metadataOptions is not set, so IMDSv1 stays available (SSRF-style credential theft). Set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }.',
      );
      return;
    }
    if (options.httpEndpoint === "disabled" || options.httpTokens === "required") {
      return;
    }
    if (isUnknown(options.httpTokens) || isUnknown(options.httpEndpoint)) {
      return;
    }
    report(
      `metadataOptions.httpTokens is ${options.httpTokens === undefined || options.httpTokens === null ? "not set" : `"${String(options.httpTokens)}"`}, ` +
        `so IMDSv1 stays available. Set metadataOptions.httpTokens: "required".`,
    );
  },
});

export const noPublicIp: ResourceValidationPolicy = defineResourcePolicy<LaunchTemplateProps & InstanceProps>({
  name: "aws-ec2-instance-no-public-ip",
  description:
    "Launch templates and instances must not request public IP addresses (runners live in private subnets behind NAT).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Launch templates: networkInterfaces[].associatePublicIpAddress: "false" (or leave it unset) and use private subnets with a NAT route. ' +
    "Instances: associatePublicIpAddress: false.",
  tags: [...RUNNER_TAGS, "network"],
  types: INSTANCE_TYPES,
  check: ({ type, props, report }) => {
    if (type === T.instance) {
      if (boolish(props.associatePublicIpAddress, false) === true) {
        report(
          "associatePublicIpAddress is true: the instance gets a public IP. Set associatePublicIpAddress: false and launch it in a private subnet.",
        );
      }
      return;
    }
    const interfaces = props.networkInterfaces;
    if (!Array.isArray(interfaces)) {
      return;
    }
    interfaces.forEach((ni, i) => {
      if (isRecord(ni) && boolish(ni.associatePublicIpAddress, false) === true) {
        report(
          `networkInterfaces[${i}].associatePublicIpAddress is ${show(ni.associatePublicIpAddress)}: every runner launched from this template gets a public IP. ` +
            'Set it to "false" (or remove it) and use private subnets with a NAT route.',
        );
      }
    });
  },
});

export const ec2Policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  terminateOnShutdown,
  imdsv2Required,
  noPublicIp,
];
