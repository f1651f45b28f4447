/**
 * One launch template per pool (found by its pool tag), from the recorded inputs: block devices, IMDS options,
 * shutdown behaviour, network interface, tag specifications and user data, with the image resolved as EC2 would.
 */
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  type EC2Client,
  type LaunchTemplateBlockDeviceMappingRequest,
  type LaunchTemplateInstanceNetworkInterfaceSpecificationRequest,
  type LaunchTemplateTagSpecificationRequest,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { TAG } from "../../contract/names";
import { type BootstrapContract, bootstrapContract } from "../bootstrap-contract";
import { type StackSnapshot, resourcesOfType } from "../stack";
import { bool, num, str, tagList } from "./recorded";

export interface DeployedLaunchTemplate {
  id: string;
  name: string;
  /** The id the functions' recorded environment holds (the mocks'). */
  recordedId?: string;
  imageId: string;
  /** What the template's user data tells its instances. */
  bootstrap: BootstrapContract;
}

function launchTemplateData(inputs: Record<string, unknown>, imageId: string, securityGroupId: string) {
  const blockDevices = ((inputs.blockDeviceMappings as Array<Record<string, unknown>> | undefined) ?? []).map(
    (mapping): LaunchTemplateBlockDeviceMappingRequest => {
      const ebs = (mapping.ebs ?? {}) as Record<string, unknown>;
      return {
        DeviceName: str(mapping.deviceName),
        Ebs: {
          DeleteOnTermination: bool(ebs.deleteOnTermination),
          Encrypted: bool(ebs.encrypted),
          VolumeSize: num(ebs.volumeSize),
          VolumeType: str(ebs.volumeType) as never,
          Iops: num(ebs.iops),
          Throughput: num(ebs.throughput),
        },
      };
    },
  );
  const metadata = (inputs.metadataOptions ?? {}) as Record<string, unknown>;
  const interfaces = ((inputs.networkInterfaces as Array<Record<string, unknown>> | undefined) ?? []).map(
    (nic): LaunchTemplateInstanceNetworkInterfaceSpecificationRequest => ({
      AssociatePublicIpAddress: bool(nic.associatePublicIpAddress),
      DeleteOnTermination: bool(nic.deleteOnTermination),
      DeviceIndex: num(nic.deviceIndex),
      // The recorded group ids are the mocks' ids: the runners' group created in moto stands in for them.
      Groups: Array.isArray(nic.securityGroups) && nic.securityGroups.length > 0 ? [securityGroupId] : undefined,
    }),
  );
  const tagSpecifications = ((inputs.tagSpecifications as Array<Record<string, unknown>> | undefined) ?? []).map(
    (spec): LaunchTemplateTagSpecificationRequest => ({
      ResourceType: str(spec.resourceType) as never,
      Tags: tagList(spec.tags),
    }),
  );
  return {
    ImageId: imageId,
    InstanceInitiatedShutdownBehavior: str(inputs.instanceInitiatedShutdownBehavior) as never,
    BlockDeviceMappings: blockDevices.length > 0 ? blockDevices : undefined,
    MetadataOptions: {
      HttpEndpoint: str(metadata.httpEndpoint) as never,
      HttpTokens: str(metadata.httpTokens) as never,
      HttpPutResponseHopLimit: num(metadata.httpPutResponseHopLimit),
      InstanceMetadataTags: str(metadata.instanceMetadataTags) as never,
    },
    NetworkInterfaces: interfaces.length > 0 ? interfaces : undefined,
    TagSpecifications: tagSpecifications.length > 0 ? tagSpecifications : undefined,
    UserData: str(inputs.userData),
  };
}

/**
 * Resolves a launch template's `resolve:ssm:<parameter>` image the way EC2 does at launch (moto does not): reads
 * the public parameter (moto ships Amazon Linux's), and registers an AMI in moto when that image is not in moto's
 * catalogue. A plain `ami-...` is registered when missing too.
 */
async function resolveImage(ec2: EC2Client, ssm: SSMClient, imageId: string, steps: string[]): Promise<string> {
  let id = imageId;
  let architecture: "x86_64" | "arm64" = /arm64|aarch64/.test(imageId) ? "arm64" : "x86_64";
  if (imageId.startsWith("resolve:ssm:")) {
    const parameter = imageId.slice("resolve:ssm:".length);
    try {
      id = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value ?? "";
    } catch {
      id = "";
    }
    if (!id) steps.push(`image parameter ${parameter} is not in moto: registering an AMI for it`);
  }
  if (id) {
    try {
      const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
      const image = images.Images?.[0];
      if (image?.ImageId) {
        steps.push(`image ${imageId} → ${image.ImageId} (${image.Architecture ?? architecture})`);
        return image.ImageId;
      }
    } catch {
      // not in moto's catalogue: registered below
    }
    architecture = /arm64/.test(id) ? "arm64" : architecture;
  }
  const registered = await ec2.send(
    new RegisterImageCommand({
      Name: `simulated ${imageId}`.slice(0, 128).replace(/[^A-Za-z0-9()[\] ./'@_-]/g, "-"),
      Architecture: architecture,
      RootDeviceName: "/dev/xvda",
    }),
  );
  steps.push(`image ${imageId} → registered ${registered.ImageId} (${architecture})`);
  return registered.ImageId!;
}

/** Launch templates of the pools the launcher knows, keyed by pool name. */
export async function deployLaunchTemplates(
  snapshot: StackSnapshot,
  clients: { ec2: EC2Client; ssm: SSMClient },
  recordedPools: Array<{ name: string; launchTemplateId?: string }>,
  securityGroupId: string,
  steps: string[],
): Promise<Map<string, DeployedLaunchTemplate>> {
  const launchTemplates = new Map<string, DeployedLaunchTemplate>();
  for (const template of resourcesOfType(snapshot, "aws:ec2/launchTemplate:LaunchTemplate")) {
    const pool = (template.inputs.tags as Record<string, string> | undefined)?.[TAG.pool];
    if (!pool) continue;
    const imageId = await resolveImage(clients.ec2, clients.ssm, String(template.inputs.imageId), steps);
    const data = launchTemplateData(template.inputs, imageId, securityGroupId);
    const created = await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: template.name,
        VersionDescription: str(template.inputs.description),
        LaunchTemplateData: data,
        TagSpecifications: [{ ResourceType: "launch-template", Tags: tagList(template.inputs.tags) }],
      }),
    );
    const id = created.LaunchTemplate!.LaunchTemplateId!;
    launchTemplates.set(pool, {
      id,
      name: template.name,
      recordedId: recordedPools.find((p) => p.name === pool)?.launchTemplateId,
      imageId,
      bootstrap: bootstrapContract(data.UserData ?? ""),
    });
    const root = data.BlockDeviceMappings?.[0]?.Ebs;
    steps.push(
      `launch template ${template.name} (${id}) for pool ${pool}: shutdown=${data.InstanceInitiatedShutdownBehavior}, IMDS tokens=${data.MetadataOptions.HttpTokens} ` +
        `hop limit ${data.MetadataOptions.HttpPutResponseHopLimit}, root ${root?.VolumeType} ${root?.VolumeSize} GiB ` +
        `encrypted=${root?.Encrypted}, public IP=${data.NetworkInterfaces?.[0]?.AssociatePublicIpAddress}`,
    );
  }
  for (const pool of recordedPools) {
    if (!launchTemplates.has(pool.name))
      throw new Error(
        `pool ${pool.name} has no launch template tagged ${TAG.pool}=${pool.name} in stack ${snapshot.stack}`,
      );
  }
  return launchTemplates;
}
