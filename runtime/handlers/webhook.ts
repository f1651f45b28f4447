/**
 * Lambda entry point behind API Gateway (HTTP API, payload 2.0): `POST /github/webhook`.
 * Module scope only reads the environment and builds cheap objects; the SQS and SSM clients are created on first
 * use. The secret is read with Powertools Parameters (decrypted, cached 5 minutes per container).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { getParameter } from "@aws-lambda-powertools/parameters/ssm";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ENV } from "../../contract/names";
import { createWebhookHandler } from "../webhook/handler";
import { sendMessageInput } from "../webhook/message";
import { parsePools } from "../webhook/pools";

/** Seconds the decrypted secret stays cached: a rotated secret takes effect within this time. */
const SECRET_MAX_AGE_SECONDS = 300;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const pools = parsePools(requiredEnv(ENV.pools));
const queueUrl = requiredEnv(ENV.jobQueueUrl);
const secretParameter = requiredEnv(ENV.webhookSecretParameter);

const logger = new Logger();
const metrics = new Metrics();
let sqs: SQSClient | undefined;

export const handler = createWebhookHandler({
  pools,
  logger,
  metrics,
  async webhookSecret() {
    const secret = await getParameter(secretParameter, { decrypt: true, maxAge: SECRET_MAX_AGE_SECONDS });
    if (!secret) throw new Error(`parameter ${secretParameter} is empty`);
    return secret;
  },
  async enqueue(message) {
    sqs ??= new SQSClient({});
    await sqs.send(new SendMessageCommand(sendMessageInput(queueUrl, message)));
  },
});
