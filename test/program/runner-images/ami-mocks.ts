/**
 * The shared offline mocks plus the answer they lack for `aws.ec2.getAmi` (reported for testkit/pulumi/invokes.ts):
 * an image's root device name, /dev/sda1 for the Ubuntu images below and /dev/xvda for every other (Amazon Linux).
 * Canonical's public parameters resolve to the Ubuntu image. Subclassing keeps every other answer.
 */
import * as pulumi from "@pulumi/pulumi";
import { CloudMocks, type RecordedResource, recordRegistrations } from "../../../testkit/pulumi-mocks";

/** An Ubuntu AMI id, as Canonical's parameters resolve it here. */
export const UBUNTU_AMI = "ami-0ab1c2d3e4f5a6b7c";

export class AmiMocks extends CloudMocks {
  readonly invokes: { token: string; inputs: Record<string, any> }[] = [];

  override call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    this.invokes.push({ token: args.token, inputs: args.inputs });
    if (args.token === "aws:ssm/getParameter:getParameter" && String(args.inputs.name).includes("/canonical/ubuntu/"))
      return { ...super.call(args), value: UBUNTU_AMI };
    if (args.token === "aws:ec2/getAmi:getAmi") {
      const id = (args.inputs.filters ?? []).find((f: { name: string }) => f.name === "image-id")?.values?.[0];
      if (!id) throw new Error("getAmi without an image-id filter");
      return {
        id,
        imageId: id,
        architecture: "x86_64",
        rootDeviceName: id === UBUNTU_AMI ? "/dev/sda1" : "/dev/xvda",
        rootDeviceType: "ebs",
      };
    }
    return super.call(args);
  }
}

export async function installAmiMocks(
  region: string,
  stack: string,
): Promise<{ mocks: AmiMocks; recorded: RecordedResource[] }> {
  const mocks = new AmiMocks({ region });
  await pulumi.runtime.setMocks(mocks, "cirunners", stack, false);
  return { mocks, recorded: recordRegistrations() };
}
