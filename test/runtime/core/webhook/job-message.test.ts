/** The job message the webhook and the reconciler send to the launcher: built from a ledger record, encoded, queued. */
import { strict as assert } from "node:assert";
import { sendMessageInput } from "../../../../runtime/adapters/sqs.js";
import { buildJobMessage, encodeForQueue } from "../../../../runtime/core/webhook/job-message.js";

const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

describe("webhook: buildJobMessage, encodeForQueue and sendMessageInput", () => {
  const record = {
    jobId: 29679449,
    runId: 10465521,
    runAttempt: 2,
    repository: "acme-platform/orders-service",
    owner: "acme-platform",
    installationId: 4242,
    labels: ["self-hosted", "linux", "x64"],
    pool: "linux-x64",
    version: 3,
  };
  const { version, ...job } = record;

  it("builds the version 1 message from the record the launch decision wrote", () => {
    const message = buildJobMessage(record, new Date("2025-01-02T03:04:05.678Z"), DELIVERY);
    assert.deepEqual(message, {
      version: 1,
      deliveryId: DELIVERY,
      recordVersion: version,
      ...job,
      enqueuedAt: "2025-01-02T03:04:05.678Z",
    });
    assert.notEqual(message.labels, record.labels, "labels are copied");
    assert.equal("deliveryId" in buildJobMessage(record, new Date(0)), false, "the reconciler's has no delivery");
  });

  it("groups by job and deduplicates by launch decision (job and record version), not by delivery", () => {
    const message = buildJobMessage(record, new Date(0), DELIVERY);
    const encoded = encodeForQueue(message);
    assert.ok("body" in encoded);
    const input = sendMessageInput("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo", message, encoded.body);
    assert.deepEqual(input, {
      QueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo",
      MessageBody: JSON.stringify(message),
      MessageGroupId: "29679449",
      MessageDeduplicationId: "29679449-3",
    });
    assert.equal("DelaySeconds" in input, false);
    const relaunch = buildJobMessage({ ...record, version: 5 }, new Date(0), DELIVERY);
    assert.equal(sendMessageInput("q", relaunch, "{}").MessageDeduplicationId, "29679449-5");
  });

  it("refuses what the job message codec refuses, naming the delivery's field", () => {
    const refusal = (overrides: Partial<typeof record>) => {
      const encoded = encodeForQueue(buildJobMessage({ ...record, ...overrides }, new Date(0), DELIVERY));
      return "kind" in encoded ? `${encoded.status} ${encoded.reason}: ${encoded.message}` : "accepted";
    };
    assert.equal(
      refusal({ repository: "no-slash" }),
      '400 field-invalid: field repository.full_name is invalid: expected "owner/name"',
    );
    assert.equal(
      refusal({ repository: "acme/app name" }),
      '400 field-invalid: field repository.full_name is invalid: expected "owner/name"',
    );
    assert.match(
      refusal({ labels: ["self-hosted", " "] }),
      /^400 field-invalid: field workflow_job\.labels\[1\] is invalid/,
    );
    assert.equal(refusal({}), "accepted");
  });
});
