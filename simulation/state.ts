/** Reading the pipeline's AWS state from moto: the stack's instances, the runner parameters, queue depths. */
import { type EC2Client, type Instance, paginateDescribeInstances } from "@aws-sdk/client-ec2";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type Parameter, paginateGetParametersByPath, type SSMClient } from "@aws-sdk/client-ssm";
import { TAG } from "../contract/names";

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export interface PipelineState {
  instances: Instance[];
  runnerParameters: Parameter[];
  jobQueue: QueueDepth;
  deadLetterQueue: QueueDepth;
}

export async function queueDepth(sqs: SQSClient, url: string): Promise<QueueDepth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Instances (all states) tagged with the stack, parameters under the runner prefix, both queues' depths. */
export async function readState(
  clients: { ec2: EC2Client; ssm: SSMClient; sqs: SQSClient },
  where: { stackTag: string; parameterPrefix: string; jobQueueUrl: string; deadLetterQueueUrl: string },
): Promise<PipelineState> {
  const instances: Instance[] = [];
  const filter = { Filters: [{ Name: `tag:${TAG.stack}`, Values: [where.stackTag] }], MaxResults: 1000 };
  for await (const page of paginateDescribeInstances({ client: clients.ec2 }, filter))
    instances.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
  const runnerParameters: Parameter[] = [];
  const path = { Path: where.parameterPrefix, Recursive: true };
  for await (const page of paginateGetParametersByPath({ client: clients.ssm }, path))
    runnerParameters.push(...(page.Parameters ?? []));
  return {
    instances,
    runnerParameters,
    jobQueue: await queueDepth(clients.sqs, where.jobQueueUrl),
    deadLetterQueue: await queueDepth(clients.sqs, where.deadLetterQueueUrl),
  };
}
