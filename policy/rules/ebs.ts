// EBS volumes of the runner fleet: encrypted (a stack policy, because EBS encryption by default is a resource of
// the stack), gp3, and a launch template's root volume declared so that both can be checked.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { ExemptionConfig } from "../lib/exemptions";
import { defineResourcePolicy, defineStackPolicy, stackExempt } from "../lib/kit";
import { T } from "../lib/types";
import { boolish, isRecord, isUnknown, show, type Tri } from "../lib/unknown";
import { scanVolumes } from "../lib/volumes";
import { RUNNER_TAGS } from "./ec2";

const VOLUME_TYPES = [T.launchTemplate, T.instance, T.ebsVolume] as const;

/**
 * Whether the stack turns on EBS encryption by default (aws.ebs.EncryptionByDefault, `enabled` defaults to true):
 * the account-and-region setting then encrypts every new volume, `encrypted` unset included. AWS EC2 User Guide,
 * "Enable Amazon EBS encryption by default". "unknown" while `enabled` is unknown during preview.
 */
export function encryptionByDefault(resources: readonly { props: Record<string, unknown> }[]): Tri {
  let result: Tri = false;
  for (const r of resources) {
    const enabled = boolish(r.props.enabled, true);
    if (enabled === true) return true;
    if (enabled === "unknown") result = "unknown";
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// aws-ebs-volume-encrypted — Checkov CKV_AWS_3 (aws_ebs_volume), CKV_AWS_8 (launch configuration / instance root and
// EBS block devices), CKV_AWS_79's launch-template counterpart; awsguard ec2-volume-inuse-check / encrypted-volumes.

const encryptedLiteral = (type: string) => (type === T.launchTemplate ? '"true"' : "true");

export const ebsEncrypted: StackValidationPolicy = defineStackPolicy<ExemptionConfig>({
  name: "aws-ebs-volume-encrypted",
  description:
    "Every EBS volume of launch templates, instances and aws.ebs.Volume must be encrypted (explicitly, or by the stack's aws.ebs.EncryptionByDefault).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Launch templates: blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true" } }] (a STRING in ' +
    "@pulumi/aws 7). Instances: rootBlockDevice / ebsBlockDevices with encrypted: true. aws.ebs.Volume: encrypted: true. Add kmsKeyId for a " +
    "customer managed key. Or turn on encryption by default in the stack: new aws.ebs.EncryptionByDefault(name, { enabled: true }).",
  tags: [...RUNNER_TAGS, "encryption"],
  types: VOLUME_TYPES,
  check: ({ ofType, config, report }) => {
    // With encryption by default on, an unset `encrypted` is encrypted; an explicit false is still reported (RunInstances
    // only accepts true then, so it is a mistake either way).
    const byDefault = encryptionByDefault(ofType(T.ebsEncryptionByDefault));
    const orByDefault = " (or enable EBS encryption by default in this stack: aws.ebs.EncryptionByDefault)";
    for (const type of VOLUME_TYPES) {
      for (const r of ofType(type)) {
        if (stackExempt(r, config)) continue;
        const scan = scanVolumes(type, r.props);
        if (scan.missingRoot && byDefault === false) {
          report(
            `This instance ${scan.missingRoot}. Declare rootBlockDevice with encrypted: true${orByDefault}.`,
            r.urn,
          );
        }
        for (const v of scan.volumes) {
          if (boolish(v.encrypted, byDefault) !== false) continue;
          const hint = isUnknown(v.encrypted) || v.encrypted === undefined || v.encrypted === null ? orByDefault : "";
          report(
            `${v.where} is not encrypted (encrypted = ${show(v.encrypted)}). Set ${v.encryptedField} to ${encryptedLiteral(type)}${hint}.`,
            r.urn,
          );
        }
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------------------
// aws-ebs-volume-gp3 — cost and baseline performance (AWS EBS User Guide, "General Purpose SSD volumes"); no
// Checkov/awsguard equivalent.

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
      report(`This instance ${scan.missingRoot}. Declare rootBlockDevice with volumeType "gp3".`);
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
// aws-ec2-launch-template-root-volume-declared — AWS EC2 User Guide, "Block device mappings": a mapping whose
// deviceName is the AMI's root device name (RootDeviceName: /dev/xvda on Amazon Linux, /dev/sda1 on Ubuntu, RHEL
// and Windows) overrides the root volume; any other mapping adds a volume, and the root volume keeps the AMI's
// snapshot settings (type, often gp2; encryption). Closest Checkov check: CKV_AWS_8 (root_block_device encrypted).
// The pack cannot see the AMI, so the conventional root names stand for it (configurable).

export const DEFAULT_ROOT_DEVICE_NAMES = ["/dev/xvda", "/dev/sda1"];

export const launchTemplateRootVolume: ResourceValidationPolicy = defineResourcePolicy<
  Record<string, unknown>,
  { rootDeviceNames?: string[] }
>({
  name: "aws-ec2-launch-template-root-volume-declared",
  description:
    "Launch templates must map the root device (/dev/xvda or /dev/sda1) with an ebs block, so the root volume's encryption and type are checked.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Add blockDeviceMappings: [{ deviceName: <the AMI\'s RootDeviceName, e.g. "/dev/xvda">, ebs: { volumeType: "gp3", encrypted: "true" } }] ' +
    "(read it from aws.ec2.getAmi(...).rootDeviceName). If your AMIs use another root device name, list it in rootDeviceNames.",
  config: {
    rootDeviceNames: {
      type: "array",
      items: { type: "string" },
      default: DEFAULT_ROOT_DEVICE_NAMES,
      description: "Device names that are an AMI's root device (RootDeviceName).",
    },
  },
  tags: [...RUNNER_TAGS, "encryption"],
  types: [T.launchTemplate],
  check: ({ props, config, report }) => {
    const roots = config.rootDeviceNames ?? DEFAULT_ROOT_DEVICE_NAMES;
    const mappings = props.blockDeviceMappings;
    if (isUnknown(mappings)) return;
    const list = Array.isArray(mappings) ? mappings : [];
    // An unknown mapping or device name may be the root: nothing is certain during preview.
    if (list.some((m) => isUnknown(m) || (isRecord(m) && isUnknown(m.deviceName)))) return;
    const rootMappings = list.filter((m) => isRecord(m) && roots.includes(m.deviceName as string));
    if (rootMappings.some((m) => m.ebs !== undefined && m.ebs !== null)) return;
    const names = list.map((m) => (isRecord(m) && typeof m.deviceName === "string" ? m.deviceName : "?"));
    const what =
      list.length === 0
        ? "declares no blockDeviceMappings"
        : rootMappings.length > 0
          ? `maps the root device ${names.filter((n) => roots.includes(n)).join(", ")} without an ebs block`
          : `maps only ${names.join(", ")}, none of which is a root device name (${roots.join(", ")})`;
    report(
      `This launch template ${what}: the root volume keeps the AMI's snapshot settings (volume type, often gp2; encryption), unchecked by ` +
        'aws-ebs-volume-encrypted and aws-ebs-volume-gp3. Add { deviceName: "<the AMI\'s root device name>", ebs: { volumeType: "gp3", encrypted: "true" } }, ' +
        "or list the AMI's root device name in rootDeviceNames.",
    );
  },
});

export const ebsResourcePolicies: ResourceValidationPolicy[] = [ebsGp3, launchTemplateRootVolume];
