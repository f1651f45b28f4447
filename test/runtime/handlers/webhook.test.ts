/**
 * The real handler (runtime/handlers/webhook.ts) against moto: SQS FIFO queue and SSM SecureString secret are
 * emulated, nothing in the AWS SDK is mocked. Every workflow_job example from @octokit/webhooks-examples is sent
 * signed and unsigned, and the test asserts exactly what lands in the queue.
 */
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
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

// Some examples match (the k8s pool, case differs), some do not (ubuntu-latest), and one pool matches the labels
// of an example that is not queued (gpu/db-app/dc-03 is in_progress): only queued jobs may be enqueued.
const POOLS: RuntimePool[] = [
  pool("k8s", ["Self-Hosted", "K8S"]),
  pool("linux-x64", ["self-hosted", "linux", "x64"]),
  pool("gpu", ["gpu", "db-app", "dc-03"]),
];
const SECRET_PARAMETER = "/cirunners/test/webhook-secret";
const QUEUE_NAME = "ingress-test-jobs.fifo";

describe("webhook: handler against moto (SQS FIFO + SSM)", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let handler: WebhookHandler;
  const savedEnv: Record<string, string | undefined> = {};
  const examples = workflowJobExamples();

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    sqs = new SQSClient({});
    await new SSMClient({}).send(
      new PutParameterCommand({ Name: SECRET_PARAMETER, Type: "SecureString", Value: SECRET }),
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
    const functionEnv: Record<string, string> = {
      [ENV.pools]: JSON.stringify(POOLS),
      [ENV.jobQueueUrl]: queueUrl,
      [ENV.webhookSecretParameter]: SECRET_PARAMETER,
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

  it("queues exactly the queued examples whose labels equal a pool's, with the full message", async () => {
    const sent = new Map<string, WorkflowJobExample>();
    for (const example of examples) {
      const delivery = randomUUID();
      const response = await handler(await githubEvent(example.body, { delivery }));
      const expected =
        example.payload.action !== "queued"
          ? [200, "action-not-queued"]
          : example.payload.workflow_job.labels.includes("k8s")
            ? [202, undefined]
            : [200, "no-matching-pool"];
      assert.deepEqual([response.statusCode, JSON.parse(response.body ?? "{}").reason], expected, example.source);
      if (response.statusCode === 202) sent.set(delivery, example.payload);
    }
    assert.equal(sent.size, 1, "exactly one example is a queued job of a configured pool");

    const messages = await drain();
    assert.equal(messages.length, 1);
    const [[delivery, payload]] = [...sent];
    const [message] = messages;
    const body = JSON.parse(message.Body ?? "") as JobMessage;
    assert.ok(
      !Number.isNaN(Date.parse(body.enqueuedAt)) && Math.abs(Date.now() - Date.parse(body.enqueuedAt)) < 60_000,
      body.enqueuedAt,
    );
    assert.deepEqual(body, {
      version: 1,
      deliveryId: delivery,
      pool: "k8s",
      jobId: 12877621891,
      runId: 4747967848,
      runAttempt: 1,
      repository: "lineville/elastic-machines-testing",
      owner: "lineville",
      installationId: 23154469,
      labels: ["self-hosted", "k8s"],
      enqueuedAt: body.enqueuedAt,
    });
    assert.equal(body.jobId, payload.workflow_job.id);
    assert.equal(message.Attributes?.MessageGroupId, "12877621891");
    assert.equal(message.Attributes?.MessageDeduplicationId, delivery);
  });

  it("queues nothing for unsigned or wrongly signed examples (401)", async () => {
    for (const example of examples) {
      const unsigned = await handler(await githubEvent(example.body, { secret: false, delivery: randomUUID() }));
      assert.equal(unsigned.statusCode, 401, example.source);
      const wrong = await handler(
        await githubEvent(example.body, { secret: "not-the-secret", delivery: randomUUID() }),
      );
      assert.equal(wrong.statusCode, 401, example.source);
    }
    assert.deepEqual(await drain(), []);
  });

  it("accepts base64-encoded bodies the same way", async () => {
    const queued = examples.find((e) => e.payload.action === "queued" && e.payload.workflow_job.labels.includes("k8s"));
    assert.ok(queued);
    const response = await handler(await githubEvent(queued.body, { base64: true, delivery: randomUUID() }));
    assert.equal(response.statusCode, 202);
    assert.equal((await drain()).length, 1);
  });

  it("turns a redelivery (same X-GitHub-Delivery) into one message; a new delivery id is a new message", async () => {
    const queued = examples.find((e) => e.payload.action === "queued" && e.payload.workflow_job.labels.includes("k8s"));
    assert.ok(queued);
    const delivery = randomUUID();
    for (let i = 0; i < 3; i++) {
      assert.equal((await handler(await githubEvent(queued.body, { delivery }))).statusCode, 202, `delivery ${i + 1}`);
    }
    const once = await drain();
    assert.deepEqual(
      once.map((m) => m.Attributes?.MessageDeduplicationId),
      [delivery],
    );

    // What a redelivery after SQS's 5-minute window looks like to the queue (documented in docs/webhook.md).
    const other = randomUUID();
    assert.equal((await handler(await githubEvent(queued.body, { delivery: other }))).statusCode, 202);
    assert.deepEqual(
      (await drain()).map((m) => JSON.parse(m.Body ?? "").deliveryId),
      [other],
    );
  });
});
