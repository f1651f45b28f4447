/**
 * "Deploys" the pipeline's AWS pieces into moto from what the stack declares (the offline preview's recorded
 * inputs), translating each Pulumi input to the AWS API call `pulumi up` would make in the end: job queue and
 * dead-letter queue, network, one launch template per pool, secrets, the runner cache bucket, the job ledger table. The launcher's event
 * source mapping is read, not created: the simulation's event source (sqs-event-source.ts) plays it.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../contract/names";
import { functionResource, recordedEnvironment, resourcesOfType, type StackSnapshot } from "../stack";
import { type DeployedLaunchTemplate, deployLaunchTemplates } from "./launch-templates";
import { deployLedgerTable } from "./ledger-table";
import { type DeployedNetwork, deployNetwork } from "./network";
import { type DeployedQueue, deployQueues } from "./queues";
import { queueNameFromArn } from "./recorded";
import { deployCacheBucket, type DeploySecrets, deploySecrets } from "./storage";

export type { DeployedLaunchTemplate } from "./launch-templates";
export type { DeployedQueue } from "./queues";
export type { DeploySecrets } from "./storage";
export { ENVIRONMENT_REWRITES, functionEnvironment, type RewriteContext } from "./environment";

export interface DeployClients {
  ec2: EC2Client;
  ssm: SSMClient;
  secretsManager: SecretsManagerClient;
  sqs: SQSClient;
  s3: S3Client;
  dynamodb: DynamoDBClient;
}

/** The launcher's event source mapping on the job queue, as recorded. */
export interface EventSourceMapping {
  batchSize: number;
  maximumConcurrency: number;
  maximumBatchingWindowInSeconds: number;
}

export interface DeployedStack extends DeployedNetwork {
  region: string;
  jobQueue: DeployedQueue;
  deadLetterQueue: DeployedQueue;
  /** Pool name → its launch template in moto. */
  launchTemplates: Map<string, DeployedLaunchTemplate>;
  /** The webhook secret's ARN in moto (the recorded one ends in other random characters). */
  webhookSecretArn: string;
  appPrivateKeyParameter: string;
  bucket?: string;
  /** The job ledger's table, when the stack declares one. */
  ledgerTable?: string;
  eventSource: EventSourceMapping;
  /** Every step, for the step-by-step output. */
  steps: string[];
}

function eventSourceMapping(snapshot: StackSnapshot, queue: DeployedQueue, steps: string[]): EventSourceMapping {
  const mapping = resourcesOfType(snapshot, "aws:lambda/eventSourceMapping:EventSourceMapping").find(
    (m) => queueNameFromArn(String(m.inputs.eventSourceArn)) === queue.name,
  );
  if (!mapping) throw new Error(`no event source mapping on ${queue.name} in stack ${snapshot.stack}`);
  const scaling = mapping.inputs.scalingConfig as { maximumConcurrency?: number } | undefined;
  const eventSource = {
    batchSize: Number(mapping.inputs.batchSize ?? 10),
    maximumConcurrency: Number(scaling?.maximumConcurrency ?? 5),
    maximumBatchingWindowInSeconds: Number(mapping.inputs.maximumBatchingWindowInSeconds ?? 0),
  };
  steps.push(
    `launcher event source: batch size ${eventSource.batchSize}, concurrency ${eventSource.maximumConcurrency}, batching window ${eventSource.maximumBatchingWindowInSeconds} s`,
  );
  return eventSource;
}

/** Creates in moto what the stack declares. */
export async function deployStack(
  snapshot: StackSnapshot,
  clients: DeployClients,
  secrets: DeploySecrets,
  region: string,
): Promise<DeployedStack> {
  const steps: string[] = [];
  const webhookEnv = recordedEnvironment(functionResource(snapshot, "webhook"));
  const launcherEnv = recordedEnvironment(functionResource(snapshot, "launcher"));

  const recordedQueueUrl = webhookEnv[ENV.jobQueueUrl];
  if (!recordedQueueUrl) throw new Error(`the webhook function has no ${ENV.jobQueueUrl}`);
  const { jobQueue, deadLetterQueue } = await deployQueues(snapshot, clients.sqs, recordedQueueUrl, steps);

  const recordedSubnets = JSON.parse(launcherEnv[ENV.subnetIds] ?? "[]") as string[];
  if (recordedSubnets.length === 0) throw new Error(`the launcher function has no ${ENV.subnetIds}`);
  const network = await deployNetwork(snapshot, clients.ec2, recordedSubnets, region, steps);

  const recordedPools = JSON.parse(launcherEnv[ENV.pools] ?? "[]") as Array<{
    name: string;
    launchTemplateId?: string;
  }>;
  const launchTemplates = await deployLaunchTemplates(snapshot, clients, recordedPools, network.securityGroupId, steps);

  const recordedSecretArn = webhookEnv[ENV.webhookSecretArn];
  if (!recordedSecretArn) throw new Error(`the webhook function has no ${ENV.webhookSecretArn}`);
  const appPrivateKeyParameter = launcherEnv[ENV.appPrivateKeyParameter];
  const webhookSecretArn = await deploySecrets(
    snapshot,
    clients,
    { webhookSecretArn: recordedSecretArn, appPrivateKeyParameter },
    secrets,
    steps,
  );
  const bucket = await deployCacheBucket(snapshot, clients.s3, region, steps);
  const ledgerTable = await deployLedgerTable(snapshot, clients.dynamodb, webhookEnv[ENV.ledgerTable], steps);

  return {
    region,
    jobQueue,
    deadLetterQueue,
    ...network,
    launchTemplates,
    webhookSecretArn,
    appPrivateKeyParameter,
    bucket,
    ledgerTable,
    eventSource: eventSourceMapping(snapshot, jobQueue, steps),
    steps,
  };
}
