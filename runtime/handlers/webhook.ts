/**
 * Lambda entry point behind API Gateway (HTTP API, payload 2.0): `POST /github/webhook`
 * (`services/accept-webhook.ts`), recording jobs in the ledger (`services/record-job.ts`). The secret is read from
 * Secrets Manager (cached 5 minutes per container, so a new secret value takes effect within that time); the
 * Secrets Manager client is far smaller in the bundle than the SSM client (issue 17, docs/webhook.md).
 */
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ENV } from "../../contract/names.js";
import { readSettings } from "../../contract/settings.js";
import { ledgerOf } from "../adapters/ledger.js";
import { sendJobMessage } from "../adapters/sqs.js";
import { secretStringReader } from "../adapters/secrets.js";
import type { HttpEvent } from "../core/webhook/request.js";
import { createWebhookHandler } from "../services/accept-webhook.js";
import { recordDelivery } from "../services/record-job.js";
import { perContainer, powertools } from "../shared/lambda.js";

const SECRET_MAX_AGE_SECONDS = 300;

const { logger, metrics } = powertools("webhook");

export const handler = perContainer<HttpEvent, APIGatewayProxyStructuredResultV2, Context | undefined>(() => {
  const settings = readSettings("webhook");
  const sqs = new SQSClient({});
  const readSecret = secretStringReader(new SecretsManagerClient({}));
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
    webhookSecret: () => readSecret(settings[ENV.webhookSecretArn], SECRET_MAX_AGE_SECONDS),
    record: (delivery, deliveryId) =>
      recordDelivery(delivery, deliveryId, {
        ledger,
        enqueue: (message, body) => sendJobMessage(sqs, queueUrl, message, body),
        pools: settings[ENV.pools],
        now: () => new Date(),
      }),
  });
});
