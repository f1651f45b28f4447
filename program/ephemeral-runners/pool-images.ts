/**
 * Which image a pool's instances boot: the launch template's `imageId` (an AMI id, or `resolve:ssm:` of a public,
 * configured or baked-image parameter), the image whose root device name the root volume mapping takes, and the
 * parameter the `image: baked` pools of one architecture launch from. RunnerFleet (runner-fleet.ts) creates the
 * parameters and templates from these; launch-policies.ts lets the launcher read the same parameters.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Architecture } from "../../contract/names";
import type { RunnerPool } from "../config";
import { RUNNER_IMAGES_COMPONENT, runnerImageParameterName } from "../runner-images/names";

/** The public SSM parameter of the latest Amazon Linux 2023 AMI for an architecture. */
export function defaultAmiParameter(architecture: RunnerPool["architecture"]): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture === "arm64" ? "arm64" : "x86_64"}`;
}

/**
 * The launch template's `imageId` for a pool. An `ami-...` id is used as is. An SSM parameter path (or no `ami`:
 * the latest Amazon Linux 2023 for the pool's architecture; or, for `image: baked`, the parameter the runner image
 * pipeline publishes to) becomes `resolve:ssm:<path>`, which EC2 resolves at every launch: instances always boot
 * the newest AMI without a redeploy or a new template version, and the AMI id never drifts in the Pulumi state.
 * Returns the parameter too (the launcher must be allowed to read it). A baked pool needs the stack's name.
 */
export function launchTemplateImage(
  pool: Pick<RunnerPool, "ami" | "architecture"> & { image?: RunnerPool["image"]; name?: string },
  stack?: string,
): {
  imageId: string;
  amiParameter?: string;
} {
  if (pool.image === "baked") {
    if (!stack) throw new Error(`pool ${pool.name ?? ""} has image "baked": pass the stack to launchTemplateImage`);
    const amiParameter = runnerImageParameterName(stack, pool.architecture);
    return { imageId: `resolve:ssm:${amiParameter}`, amiParameter };
  }
  if (pool.ami?.startsWith("ami-")) return { imageId: pool.ami };
  const amiParameter = pool.ami ?? defaultAmiParameter(pool.architecture);
  return { imageId: `resolve:ssm:${amiParameter}`, amiParameter };
}

/**
 * The image whose root device name a pool's root volume mapping takes: the configured AMI or parameter, and for
 * a baked pool the pipeline's parent image (Image Builder keeps the parent's root device), since the baked
 * parameter may not hold an image yet on the first deployment.
 */
export function rootDeviceSource(pool: Pick<RunnerPool, "ami" | "architecture" | "image">): {
  imageId?: string;
  parameter?: string;
} {
  if (pool.image !== "baked" && pool.ami?.startsWith("ami-")) return { imageId: pool.ami };
  return { parameter: (pool.image !== "baked" && pool.ami) || defaultAmiParameter(pool.architecture) };
}

/**
 * The root device name of the pool's image, read at deploy time (/dev/xvda on AL2023, /dev/sda1 on Ubuntu). The
 * lookups run under `fleet` so they use the same provider as the templates that need the answer.
 */
export function rootDeviceName(fleet: pulumi.ComponentResource, pool: RunnerPool): pulumi.Output<string> {
  const source = rootDeviceSource(pool);
  const imageId = source.imageId
    ? pulumi.output(source.imageId)
    : aws.ssm.getParameterOutput({ name: source.parameter ?? "" }, { parent: fleet }).value;
  return imageId.apply((id) =>
    aws.ec2
      .getAmiOutput(
        // A pinned AMI may be deprecated by now: it still boots, so it must still be found.
        { filters: [{ name: "image-id", values: [id] }], includeDeprecated: true },
        { parent: fleet },
      )
      .apply((ami) => {
        if (!ami.rootDeviceName) throw new Error(`AMI ${id} of pool ${pool.name} reports no root device name`);
        return ami.rootDeviceName;
      }),
  );
}

/**
 * The parameter baked pools of an architecture launch from, created as a child of the runner fleet (its URN, and
 * the alias below, depend on that parent). A launch template can name a parameter only once it exists (Amazon EC2
 * Auto Scaling User Guide, "Use AWS Systems Manager parameters instead of AMI IDs in launch templates"), so the
 * templates depend on it. It is seeded with the stock Amazon Linux 2023 image, which the bootstrap installs onto,
 * so baked pools can launch before the first build; Image Builder's distribution then updates it with every new
 * image ("The image distribution creates the Parameter if it doesn't already exist. Otherwise, it updates the
 * parameter": Image Builder API Reference, SsmParameterConfiguration), which is why its value is not ours to reset.
 */
export function bakedImageParameter(
  fleet: pulumi.ComponentResource,
  fleetName: string,
  architecture: Architecture,
  args: { readonly stack: string; readonly tags?: Record<string, string> },
): aws.ssm.Parameter {
  return new aws.ssm.Parameter(
    `${fleetName}-runner-image-${architecture}`,
    {
      name: runnerImageParameterName(args.stack, architecture),
      type: "String",
      dataType: "aws:ec2:image",
      value: aws.ssm.getParameterOutput({ name: defaultAmiParameter(architecture) }, { parent: fleet }).value,
      description: `Newest baked runner AMI (${architecture}) of ${args.stack}, written by Image Builder`,
      tags: args.tags,
    },
    {
      parent: fleet,
      ignoreChanges: ["value"],
      // RunnerImages created it before (as `runner-images-<arch>`): an existing stack keeps its parameter, and the
      // AMI id last written to it, instead of deleting and re-creating it.
      aliases: [
        {
          name: `${RUNNER_IMAGES_COMPONENT}-${architecture}`,
          parent: pulumi.createUrn(RUNNER_IMAGES_COMPONENT, "cirunners:index:RunnerImages"),
        },
      ],
    },
  );
}
