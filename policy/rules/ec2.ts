// EC2 / EBS policies for the runner fleet: encrypted gp3 volumes, terminate on shutdown, IMDSv2, no public IPs.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { defineResourcePolicy } from "../lib/kit";
import { type EbsVolumeProps, type InstanceProps, type LaunchTemplateProps, T } from "../lib/types";
import { boolish, isRecord, isUnknown, show } from "../lib/unknown";

const INSTANCE_TYPES = [T.launchTemplate, T.instance] as const;
const VOLUME_TYPES = [T.launchTemplate, T.instance, T.ebsVolume] as const;

/** One EBS volume declaration found in a resource. */
export interface VolumeSpec {
  /** `blockDeviceMappings[0] (/dev/xvda).ebs`, `rootBlockDevice`, `ebsBlockDevices[1] (/dev/sdf)`, `this volume`. */
  where: string;
  volumeType: unknown;
  encrypted: unknown;
  /** Property names for messages. */
  typeField: string;
  encryptedField: string;
}

export interface VolumeScan {
  volumes: VolumeSpec[];
  /** Some volume declarations are unknown during preview. */
  unknown: boolean;
  /** The resource declares no EBS volume of its own, so its root volume comes from the AMI unchecked. */
  missingRoot?: string;
}

function deviceName(value: unknown): string {
  return typeof value === "string" && !isUnknown(value) && value !== "" ? ` (${value})` : "";
}

/** The EBS volumes a launch template, instance or volume declares. */
export function scanVolumes(type: string, props: Record<string, unknown>): VolumeScan {
  const scan: VolumeScan = { volumes: [], unknown: false };
  if (type === T.ebsVolume) {
    const p = props as EbsVolumeProps;
    scan.volumes.push({
      where: "this volume",
      volumeType: p.type,
      encrypted: p.encrypted,
      typeField: "type",
      encryptedField: "encrypted",
    });
    return scan;
  }
  if (type === T.launchTemplate) {
    const mappings = (props as LaunchTemplateProps).blockDeviceMappings;
    if (isUnknown(mappings)) {
      scan.unknown = true;
      return scan;
    }
    (Array.isArray(mappings) ? mappings : []).forEach((m, i) => {
      if (isUnknown(m)) {
        scan.unknown = true;
      } else if (isRecord(m) && m.ebs !== undefined && m.ebs !== null) {
        if (isUnknown(m.ebs) || !isRecord(m.ebs)) {
          scan.unknown = scan.unknown || isUnknown(m.ebs);
          return;
        }
        scan.volumes.push({
          where: `blockDeviceMappings[${i}]${deviceName(m.deviceName)}.ebs`,
          volumeType: m.ebs.volumeType,
          encrypted: m.ebs.encrypted,
          typeField: "volumeType",
          encryptedField: 'encrypted ("true" as a string in @pulumi/aws 7 launch templates)',
        });
      }
    });
    if (scan.volumes.length === 0 && !scan.unknown) {
      scan.missingRoot =
        "declares no blockDeviceMappings with an ebs block, so the root volume takes the AMI's volume type (often gp2) and encryption setting";
    }
    return scan;
  }
  // Instance
  const p = props as InstanceProps;
  if (isUnknown(p.rootBlockDevice)) {
    scan.unknown = true;
  } else if (isRecord(p.rootBlockDevice)) {
    scan.volumes.push({
      where: "rootBlockDevice",
      volumeType: p.rootBlockDevice.volumeType,
      encrypted: p.rootBlockDevice.encrypted,
      typeField: "volumeType",
      encryptedField: "encrypted",
    });
  } else if (p.launchTemplate === undefined || p.launchTemplate === null) {
    scan.missingRoot =
      "declares no rootBlockDevice, so the root volume takes the AMI's volume type (often gp2) and encryption setting";
  }
  if (isUnknown(p.ebsBlockDevices)) {
    scan.unknown = true;
  } else if (Array.isArray(p.ebsBlockDevices)) {
    p.ebsBlockDevices.forEach((d, i) => {
      if (isUnknown(d)) {
        scan.unknown = true;
      } else if (isRecord(d)) {
        scan.volumes.push({
          where: `ebsBlockDevices[${i}]${deviceName(d.deviceName)}`,
          volumeType: d.volumeType,
          encrypted: d.encrypted,
          typeField: "volumeType",
          encryptedField: "encrypted",
        });
      }
    });
  }
  return scan;
}

const RUNNER_TAGS = ["ec2", "runners"];

// ---------------------------------------------------------------------------------------------------------

export const ebsEncrypted: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>>({
  name: "aws-ebs-volume-encrypted",
  description: "Every EBS volume of launch templates, instances and aws.ebs.Volume must be encrypted.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Launch templates: blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true" } }] (a STRING in ' +
    "@pulumi/aws 7). Instances: rootBlockDevice / ebsBlockDevices with encrypted: true. aws.ebs.Volume: encrypted: true. Add kmsKeyId for a customer managed key.",
  tags: [...RUNNER_TAGS, "encryption"],
  types: VOLUME_TYPES,
  check: ({ type, props, report }) => {
    const scan = scanVolumes(type, props);
    if (scan.missingRoot) {
      report(
        `This ${type === T.launchTemplate ? "launch template" : "instance"} ${scan.missingRoot}. Declare the root volume with encrypted ${type === T.launchTemplate ? '"true"' : "true"}.`,
      );
    }
    for (const v of scan.volumes) {
      const encrypted = boolish(v.encrypted, false);
      if (encrypted === false) {
        report(
          `${v.where} is not encrypted (encrypted = ${show(v.encrypted)}). Set ${v.encryptedField} to ${type === T.launchTemplate ? '"true"' : "true"}.`,
        );
      }
    }
  },
});

interface VolumeTypeConfig {
  allowedVolumeTypes?: string[];
}

export const ebsGp3: ResourceValidationPolicy = defineResourcePolicy<Record<string, unknown>, VolumeTypeConfig>({
  name: "aws-ebs-volume-gp3",
  description: "Every EBS volume of launch templates, instances and aws.ebs.Volume must be gp3.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set volumeType: "gp3" (aws.ebs.Volume: type: "gp3"). gp3 is cheaper than gp2 and has a 3,000 IOPS / 125 MiB/s baseline independent of size. ' +
    "If a workload needs io2, add it to allowedVolumeTypes in the policy config.",
  config: {
    allowedVolumeTypes: {
      type: "array",
      items: { type: "string" },
      default: ["gp3"],
      description: "Volume types accepted.",
    },
  },
  tags: [...RUNNER_TAGS, "cost"],
  types: VOLUME_TYPES,
  check: ({ type, props, config, report }) => {
    const allowed = config.allowedVolumeTypes ?? ["gp3"];
    const scan = scanVolumes(type, props);
    if (scan.missingRoot) {
      report(
        `This ${type === T.launchTemplate ? "launch template" : "instance"} ${scan.missingRoot}. Declare the root volume with volumeType "gp3".`,
      );
    }
    for (const v of scan.volumes) {
      if (isUnknown(v.volumeType)) {
        continue;
      }
      if (typeof v.volumeType !== "string" || !allowed.includes(v.volumeType)) {
        const current =
          v.volumeType === undefined || v.volumeType === null || v.volumeType === ""
            ? "not set (AWS then uses gp2 or the snapshot's type)"
            : `"${String(v.volumeType)}"`;
        report(
          `${v.where} has ${v.typeField} ${current}. Set ${v.typeField}: "gp3"${allowed.length > 1 || allowed[0] !== "gp3" ? ` (allowed: ${allowed.join(", ")})` : ""}.`,
        );
      }
    }
  },
});

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

export const terminateOnShutdown: ResourceValidationPolicy = defineResourcePolicy<LaunchTemplateProps & InstanceProps>({
  name: "aws-ec2-instance-terminate-on-shutdown",
  description:
    'Launch templates and instances must set instanceInitiatedShutdownBehavior: "terminate" (ephemeral runners delete themselves on poweroff).',
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    'Set instanceInitiatedShutdownBehavior: "terminate" so that `poweroff` at the end of a job (or after a failed bootstrap) deletes the ' +
    "instance instead of leaving a stopped orphan with its volume. Long-lived instances can be exempted by name or tag in the policy config.",
  tags: RUNNER_TAGS,
  types: INSTANCE_TYPES,
  check: ({ type, props, report }) => {
    const value = props.instanceInitiatedShutdownBehavior;
    if (isUnknown(value) || value === "terminate" || inheritsFromLaunchTemplate(type, props, value)) {
      return;
    }
    report(
      `instanceInitiatedShutdownBehavior is ${value === undefined || value === null ? 'not set (the default is "stop")' : `"${String(value)}"`}: ` +
        `a runner that powers off stays as a stopped instance with its EBS volume. Set instanceInitiatedShutdownBehavior: "terminate".`,
    );
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

export const ec2Policies: ResourceValidationPolicy[] = [
  ebsEncrypted,
  ebsGp3,
  terminateOnShutdown,
  imdsv2Required,
  noPublicIp,
];
