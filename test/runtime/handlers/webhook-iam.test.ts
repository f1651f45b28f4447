/**
 * The webhook role's policy, proven with moto's IAM enforcement (support/moto-iam.ts): the statements the program
 * gives the function (`webhookStatements`, program/ephemeral-runners/ingress.ts) let the real handler read the
 * webhook secret from Secrets Manager, and a role whose statement names another secret gets the handler's
 * 500 `secret-unavailable`, which GitHub can redeliver.
 */
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { dynamodbIndexArn, dynamodbTableArn } from "../../../contract/arn";
import { LEDGER_KEYS } from "../../../contract/ledger";
import { ENV } from "../../../contract/names";
import { webhookStatements } from "../../../program/ephemeral-runners/ingress";
import { ledgerStatements } from "../../../program/ephemeral-runners/ledger-policies";
import type { WebhookHandler } from "../../../runtime/services/accept-webhook.js";
import type { MotoServer } from "../../../testkit/moto";
import { ACCOUNT, enforceIam, type RoleCredentials, roleSession, startMotoForIam } from "../support/moto-iam";
import { githubEvent, POOLS, SECRET } from "../support/webhook.js";

const REGION = "eu-west-1";
const WHERE = { partition: "aws", region: REGION, account: ACCOUNT };
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:runners-ingress-jobs.fifo`;
// The webhook's own ledger statements, as the program builds them.
const LEDGER = ledgerStatements("webhook", {
  tableArn: dynamodbTableArn(WHERE, "runners-ledger-test"),
  dueIndexArn: dynamodbIndexArn(WHERE, "runners-ledger-test", LEDGER_KEYS.dueIndex),
});

/** A delivery from an owner the stack does not serve: signed, then answered 200 without touching the ledger. */
const OTHER_OWNER_JOB = JSON.stringify({
  action: "queued",
  workflow_job: { id: 77, run_id: 7, run_attempt: 1, labels: ["self-hosted", "linux", "x64"], status: "queued" },
  repository: { full_name: "someone-else/app", owner: { login: "someone-else" } },
});

describe("webhook: its role's policy under moto's IAM enforcement", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let secretArn: string;
  let webhookRole: RoleCredentials;
  let otherSecretRole: RoleCredentials;
  const saved: Record<string, string | undefined> = {};
  let containers = 0;

  before(async () => {
    moto = await startMotoForIam(REGION);
    const setup = new SecretsManagerClient({});
    ({ ARN: secretArn = "" } = await setup.send(
      new CreateSecretCommand({ Name: "runners-ingress-webhook-secret", SecretString: SECRET }),
    ));
    const { ARN: otherArn = "" } = await setup.send(
      new CreateSecretCommand({ Name: "other-stack-webhook-secret", SecretString: "not ours" }),
    );
    setup.destroy();
    webhookRole = await roleSession(
      moto,
      "webhook",
      webhookStatements({ ledger: LEDGER, queueArn: QUEUE_ARN, secretArn }),
    );
    otherSecretRole = await roleSession(
      moto,
      "webhook-of-another-secret",
      webhookStatements({ ledger: LEDGER, queueArn: QUEUE_ARN, secretArn: otherArn }),
    );
    await enforceIam(moto);
  });

  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await moto?.stop();
  });

  function setEnv(variables: Record<string, string>): void {
    for (const [name, value] of Object.entries(variables)) {
      if (!(name in saved)) saved[name] = process.env[name];
      process.env[name] = value;
    }
  }

  /**
   * The real handler in a container of its own (a fresh module instance) whose SDK clients sign with `credentials`,
   * as Lambda's role credentials come in the environment.
   */
  async function webhookContainer(credentials: RoleCredentials): Promise<WebhookHandler> {
    setEnv({
      [ENV.pools]: JSON.stringify(POOLS),
      [ENV.ledgerTable]: "runners-ledger-test",
      [ENV.githubOwner]: "acme-platform",
      [ENV.runnerScope]: "org",
      [ENV.repositories]: "[]",
      [ENV.jobQueueUrl]: `${moto.endpoint}/${ACCOUNT}/runners-ingress-jobs.fifo`,
      [ENV.webhookSecretArn]: secretArn,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    });
    const file = pathToFileURL(path.resolve(__dirname, "../../../runtime/handlers/webhook.ts")).href;
    const module = (await import(`${file}?container=${++containers}`)) as { handler: WebhookHandler };
    return module.handler;
  }

  it("the webhook's statements allow secretsmanager:GetSecretValue on its secret; the same statements for another secret do not", async () => {
    const client = new SecretsManagerClient({ credentials: webhookRole });
    try {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
      assert.equal(SecretString, SECRET);
      const other = new SecretsManagerClient({ credentials: otherSecretRole });
      await assert.rejects(
        other.send(new GetSecretValueCommand({ SecretId: secretArn })),
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 403,
      );
      other.destroy();
    } finally {
      client.destroy();
    }
  });

  it("with the webhook's role, the handler reads the secret and verifies a delivery signed with it", async () => {
    const handler = await webhookContainer(webhookRole);
    const response = await handler(await githubEvent(OTHER_OWNER_JOB, { delivery: randomUUID() }));
    // 200 other-owner comes after the signature check: the secret was read and is the one GitHub signs with.
    assert.deepEqual([response.statusCode, JSON.parse(response.body ?? "{}").reason], [200, "other-owner"]);
    const forged = await handler(await githubEvent(OTHER_OWNER_JOB, { secret: "forged", delivery: randomUUID() }));
    assert.equal(forged.statusCode, 401);
  });

  it("with a role not allowed to read the secret, the handler answers 500 secret-unavailable", async () => {
    const handler = await webhookContainer(otherSecretRole);
    const response = await handler(await githubEvent(OTHER_OWNER_JOB, { delivery: randomUUID() }));
    assert.deepEqual([response.statusCode, JSON.parse(response.body ?? "{}").reason], [500, "secret-unavailable"]);
  });
});
