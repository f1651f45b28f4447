// Resource builders shared by the EC2 and EBS policy tests.
export const LT = "aws:ec2/launchTemplate:LaunchTemplate";
export const INSTANCE = "aws:ec2/instance:Instance";
export const VOLUME = "aws:ebs/volume:Volume";
export const QUEUE = "aws:sqs/queue:Queue";
export const EBD = "aws:ebs/encryptionByDefault:EncryptionByDefault";

/** A launch template that passes every EC2 policy. */
export const goodLt = (extra: Record<string, unknown> = {}) => ({
  instanceInitiatedShutdownBehavior: "terminate",
  metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
  networkInterfaces: [{ associatePublicIpAddress: "false", subnetId: "subnet-1" }],
  blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", volumeSize: 40 } }],
  tags: { Name: "runner" },
  ...extra,
});
export const goodInstance = (extra: Record<string, unknown> = {}) => ({
  instanceInitiatedShutdownBehavior: "terminate",
  metadataOptions: { httpTokens: "required" },
  associatePublicIpAddress: false,
  rootBlockDevice: { volumeType: "gp3", encrypted: true },
  ebsBlockDevices: [{ deviceName: "/dev/sdf", volumeType: "gp3", encrypted: true }],
  ...extra,
});
