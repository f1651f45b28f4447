/**
 * The real handler (runtime/handlers/webhook.ts) against moto: SQS FIFO queue, the Secrets Manager secret and the
 * job ledger (DynamoDB) are emulated, nothing in the AWS SDK is mocked. Every workflow_job example from
 * @octokit/webhooks-examples is sent signed and unsigned, and the test asserts what the ledger records and exactly
 * what lands in the queue.
 */
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ENV } from "../../../contract/names";
import type { RuntimePool } from "../../../contract/pool";
import type { JobMessage } from "../../../contract/job";
import type { WebhookHandler } from "../../../runtime/services/accept-webhook.js";
import { startMoto, type MotoServer } from "../../../testkit/moto";
import { getJob, type Ledger } from "../../../runtime/adapters/ledger.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import { githubEvent, pool, SECRET } from "../support/webhook.js";

interface WorkflowJobExample {
  action: string;
  workflow_job: { id: number; run_id: number; run_attempt?: number; labels: string[] };
  repository: { full_name: string; owner: { login: string } };
  installation?: { id: number };
}

/** Every distinct workflow_job example, from github.com and each GitHub Enterprise Server version. */
function workflowJobExamples(): { source: string; payload: WorkflowJobExample; body: string }[] {
  const root = path.dirname(require.resolve("@octokit/webhooks-examples/package.json"));
  const seen = new Set<string>();
  const out: { source: string; payload: WorkflowJobExample; body: string }[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    const definitions = JSON.parse(readFileSync(path.join(root, dir, "index.json"), "utf8")) as {
      name: string;
      examples: WorkflowJobExample[];
    }[];
    for (const [i, payload] of (definitions.find((d) => d.name === "workflow_job")?.examples ?? []).entries()) {
      const body = JSON.stringify(payload);
      if (seen.has(body)) continue;
      seen.add(body);
      out.push({
        source: `${dir}#${i} (${payload.action} ${JSON.stringify(payload.workflow_job.labels)})`,
        payload,
        body,
      });
    }
  }
  return out;
}

// The stack serves lineville's jobs: its k8s job (labels differ in case from the pool's) is announced `queued` with
// status `waiting` (an environment approval) and then `waiting`. The other examples belong to other owners.
const POOLS: RuntimePool[] = [
  pool("k8s", ["Self-Hosted", "K8S"]),
  pool("linux-x64", ["self-hosted", "linux", "x64"]),
  pool("gpu", ["gpu", "db-app", "dc-03"]),
];
const QUEUE_NAME = "ingress-test-jobs.fifo";
const LEDGER_TABLE = "ingress-test-jobs";
const K8S_JOB = 12877621891;

describe("webhook: handler against moto (SQS FIFO + Secrets Manager)", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let handler: WebhookHandler;
  let ledger: Ledger;
  const savedEnv: Record<string, string | undefined> = {};
  const examples = workflowJobExamples();

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    sqs = new SQSClient({});
    const { ARN: secretArn = "" } = await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: "ingress-webhook-secret", SecretString: SECRET }),
    );
    ({ QueueUrl: queueUrl = "" } = await sqs.send(
      new CreateQueueCommand({
        QueueName: QUEUE_NAME,
        Attributes: {
          FifoQueue: "true",
          DeduplicationScope: "messageGroup",
          FifoThroughputLimit: "perMessageGroupId",
          SqsManagedSseEnabled: "true",
          DelaySeconds: "0",
        },
      }),
    ));
    ledger = await createLedgerTable(dynamoClient(), LEDGER_TABLE);
    const functionEnv: Record<string, string> = {
      [ENV.pools]: JSON.stringify(POOLS),
      [ENV.ledgerTable]: LEDGER_TABLE,
      [ENV.githubOwner]: "lineville",
      [ENV.runnerScope]: "org",
      [ENV.repositories]: "[]",
      [ENV.jobQueueUrl]: queueUrl,
      [ENV.webhookSecretArn]: secretArn,
      POWERTOOLS_SERVICE_NAME: "cirunners-webhook",
      POWERTOOLS_METRICS_NAMESPACE: "cirunners",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    };
    for (const [name, value] of Object.entries(functionEnv)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    ({ handler } = await import("../../../runtime/handlers/webhook.js"));
  });

  after(async () => {
    // Other test files share the process: leave the environment as it was.
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await moto?.stop();
  });

  beforeEach(async () => {
    // Empty the queue by receiving: SQS (and moto since 5.2.5) allow one PurgeQueue a minute per queue.
    await drain();
  });

  /** Everything in the queue, received and deleted (a FIFO group holds back its next message until then). */
  async function drain(): Promise<Message[]> {
    const messages: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 600,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      if (Messages.length === 0) return messages;
      messages.push(...Messages);
      for (const m of Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }

  it("has examples of every workflow_job action, queued ones that match a pool and ones that do not", () => {
    assert.deepEqual([...new Set(examples.map((e) => e.payload.action))].sort(), [
      "completed",
      "in_progress",
      "queued",
      "waiting",
    ]);
    const queued = examples
      .filter((e) => e.payload.action === "queued")
      .map((e) => e.payload.workflow_job.labels.join(","));
    assert.ok(queued.includes("self-hosted,k8s") && queued.includes("ubuntu-latest"), queued.join(" | "));
  });

  /** The k8s job's `queued` example, as GitHub sends it once the approval is granted (status `queued`). */
  function approved(jobId = K8S_JOB): string {
    const queued = examples.find((e) => e.payload.action === "queued" && e.payload.workflow_job.labels.includes("k8s"));
    assert.ok(queued);
    const payload = JSON.parse(queued.body);
    payload.workflow_job = { ...payload.workflow_job, id: jobId, status: "queued" };
    return JSON.stringify(payload);
  }

  it("records the owner's waiting job without a runner, answers other owners 200, and queues nothing", async () => {
    for (const example of examples) {
      const response = await handler(await githubEvent(example.body, { delivery: randomUUID() }));
      const ours = example.payload.repository.owner.login === "lineville";
      // The first of the two k8s examples records the job; the second (waiting again) changes nothing.
      const expected = !ours
        ? [200, "other-owner"]
        : example.payload.action === "queued"
          ? [202, undefined]
          : [200, "no-change"];
      assert.deepEqual([response.statusCode, JSON.parse(response.body ?? "{}").reason], expected, example.source);
    }
    const record = await getJob(ledger, K8S_JOB);
    assert.equal(record?.state, "waiting");
    assert.equal(record?.pool, "k8s");
    assert.deepEqual(await drain(), [], "a job waiting for approval gets no runner");
  });

  it("queues one launch with the full message once the job is approved (status queued)", async () => {
    const delivery = randomUUID();
    const response = await handler(await githubEvent(approved(), { delivery }));
    assert.equal(response.statusCode, 202, response.body);
    const [message, ...more] = await drain();
    assert.deepEqual(more, []);
    const body = JSON.parse(message.Body ?? "") as JobMessage;
    assert.ok(
      !Number.isNaN(Date.parse(body.enqueuedAt)) && Math.abs(Date.now() - Date.parse(body.enqueuedAt)) < 60_000,
      body.enqueuedAt,
    );
    const record = await getJob(ledger, K8S_JOB);
    assert.equal(record?.state, "queued");
    assert.deepEqual(body, {
      version: 1,
      deliveryId: delivery,
      recordVersion: record?.version,
      pool: "k8s",
      jobId: K8S_JOB,
      runId: 4747967848,
      runAttempt: 1,
      repository: "lineville/elastic-machines-testing",
      owner: "lineville",
      installationId: 23154469,
      labels: ["self-hosted", "k8s"],
      enqueuedAt: body.enqueuedAt,
    });
    assert.equal(message.Attributes?.MessageGroupId, String(K8S_JOB));
    assert.equal(message.Attributes?.MessageDeduplicationId, `${K8S_JOB}-${record?.version}`);
  });

  it("records and queues nothing for unsigned or wrongly signed examples (401)", async () => {
    for (const body of [...examples.map((e) => e.body), approved(501)]) {
      const unsigned = await handler(await githubEvent(body, { secret: false, delivery: randomUUID() }));
      assert.equal(unsigned.statusCode, 401, body.slice(0, 80));
      const wrong = await handler(await githubEvent(body, { secret: "not-the-secret", delivery: randomUUID() }));
      assert.equal(wrong.statusCode, 401, body.slice(0, 80));
    }
    assert.deepEqual(await drain(), []);
    assert.equal(await getJob(ledger, 501), undefined);
  });

  it("accepts base64-encoded bodies the same way", async () => {
    const response = await handler(await githubEvent(approved(502), { base64: true, delivery: randomUUID() }));
    assert.equal(response.statusCode, 202);
    assert.equal((await drain()).length, 1);
  });

  it("turns any number of deliveries of one job, same id or new, into one record and one launch", async () => {
    const delivery = randomUUID();
    const answers: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++)
      answers.push((await handler(await githubEvent(approved(503), { delivery }))).statusCode);
    // A redelivery long after SQS's 5-minute window, or a second webhook, carries a new delivery id.
    answers.push((await handler(await githubEvent(approved(503), { delivery: randomUUID() }))).statusCode);
    assert.deepEqual(answers, [202, 200, 200, 200]);
    assert.deepEqual(
      (await drain()).map((m) => JSON.parse(m.Body ?? "").deliveryId),
      [delivery],
    );
    assert.equal((await getJob(ledger, 503))?.version, 0, "created once, never rewritten");
  });
});
