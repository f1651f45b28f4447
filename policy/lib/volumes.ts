// The EBS volumes a launch template, an instance or an aws.ebs.Volume declares, read from @pulumi/aws 7 inputs
// (launch templates carry booleans as strings: `ebs.encrypted: "true"`). Used by the EBS policies (rules/ebs.ts).
import { type EbsVolumeProps, type InstanceProps, type LaunchTemplateProps, T } from "./types";
import { isRecord, isUnknown } from "./unknown";

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
  /** An instance declares no root volume (and no launch template), so the AMI's root volume goes unchecked. */
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
    // Whether the root device is among the mappings is aws-ec2-launch-template-root-volume-declared's question.
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
