/**
 * An instance started in moto with the given tags, as the launcher (or another stack, or the warm pool) would have
 * started it: what the reaper, the reconciler, the warm pool and the launcher's capacity count find by tag.
 */
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";

export async function runTaggedInstance(
  tags: Record<string, string>,
  { ec2 = new EC2Client({}), imageId = "ami-12345678" }: { ec2?: EC2Client; imageId?: string } = {},
): Promise<string> {
  const result = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "m7i.large",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  const id = result.Instances?.[0]?.InstanceId;
  if (!id) throw new Error("moto started no instance");
  return id;
}
