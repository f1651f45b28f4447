/**
 * Lambda entry point behind API Gateway (HTTP API, payload 2.0): `POST /github/webhook`
 * (`services/accept-webhook.ts`), recording jobs in the ledger (`services/record-job.ts`). The secret is read with
 * Powertools Parameters (decrypted, cached 5 minutes per container, so a rotated secret takes effect within that
 * time).
 */
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { ENV } from "../../contract/names.js";
import { readSettings } from "../../contract/settings.js";
import { ledgerOf } from "../adapters/ledger.js";
import { sendJobMessage } from "../adapters/sqs.js";
import { secretReader } from "../adapters/ssm.js";
import type { HttpEvent } from "../core/webhook/request.js";
import { createWebhookHandler } from "../services/accept-webhook.js";
import { recordDelivery } from "../services/record-job.js";
import { perContainer, powertools } from "../shared/lambda.js";

const SECRET_MAX_AGE_SECONDS = 300;

const { logger, metrics } = powertools("webhook");

export const handler = perContainer<HttpEvent, APIGatewayProxyStructuredResultV2, Context | undefined>(() => {
  const settings = readSettings("webhook");
  const sqs = new SQSClient({});
  const readSecret = secretReader(new SSMClient({}));
  const ledger = ledgerOf(new DynamoDBClient({}), settings[ENV.ledgerTable]);
  const queueUrl = settings[ENV.jobQueueUrl];
  return createWebhookHandler({
    served: {
      pools: settings[ENV.pools],
      owner: settings[ENV.githubOwner],
      scope: settings[ENV.runnerScope],
      repositories: settings[ENV.repositories],
    },
    logger,
    metrics,
    webhookSecret: () => readSecret(settings[ENV.webhookSecretParameter], SECRET_MAX_AGE_SECONDS),
    record: (delivery, deliveryId) =>
      recordDelivery(delivery, deliveryId, {
        ledger,
        enqueue: (message, body) => sendJobMessage(sqs, queueUrl, message, body),
        pools: settings[ENV.pools],
        now: () => new Date(),
      }),
  });
});
