/**
 * The webhook and the launcher agree on the job message: whatever the webhook queues, the launcher decodes
 * (once, with the same codec) to the same message. Before the contract, the webhook accepted any
 * `owner/name` with a slash while the launcher's own pattern was stricter, so such jobs were dead-lettered.
 * The webhook's real record path runs here (services/record-job.ts against moto's DynamoDB), so the message is the
 * one built from the ledger record, as in production.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { JobMessage } from "../../../contract/job.js";
import type { Ledger } from "../../../runtime/adapters/ledger.js";
import { decodeBatch } from "../../../runtime/core/launch/plan.js";
import { createWebhookHandler } from "../../../runtime/services/accept-webhook.js";
import { recordDelivery } from "../../../runtime/services/record-job.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";
import { createLedgerTable, dynamoClient } from "../support/ledger-table.js";
import {
  githubEvent,
  POOLS,
  queuedJob,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  SERVED,
} from "../support/webhook.js";

describe("webhook → launcher: one job message codec", function () {
  this.timeout(180_000);
  let moto: MotoServer;
  let ledger: Ledger;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    ledger = await createLedgerTable(dynamoClient(), "codec-jobs");
  });
  after(async () => moto?.stop());

  it("every message the webhook queues is decoded by the launcher to the same message", async () => {
    const queued: { message: JobMessage; body: string }[] = [];
    // The stack of each generated owner: the property is about what the codec accepts, not whose jobs are served.
    const handlerFor = (owner: string) =>
      createWebhookHandler({
        logger: new RecordingLogger(),
        metrics: new RecordingMetrics(),
        webhookSecret: async () => SECRET,
        served: { ...SERVED, owner },
        record: (delivery, deliveryId) =>
          recordDelivery(delivery, deliveryId, {
            ledger,
            enqueue: async (message, body) => {
              queued.push({ message, body });
            },
            pools: SERVED.pools,
            now: () => new Date(),
          }),
      });
    const namePart = fc.stringMatching(/^[A-Za-z0-9_.\- ]{0,12}$/);
    const repository = fc.oneof(
      fc.tuple(namePart, namePart).map(([owner, name]) => `${owner}/${name}`),
      fc.constantFrom("acme_corp/app", "a/b", "octo-org/.github", "-x/y", "x/y/z", "owner_emu/r.e-p_o"),
    );
    let jobId = 1;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(repository, fc.uuid(), async (fullName, delivery) => {
        queued.length = 0;
        const owner = fullName.split("/")[0] || "x";
        const payload = queuedJob(["self-hosted", "linux", "x64"], {
          repository: { full_name: fullName, owner: { login: owner } },
        });
        // A fresh job each run: a job already in the ledger is (rightly) not queued twice.
        (payload.workflow_job as Record<string, unknown>).id = jobId++;
        const response = await handlerFor(owner)(await githubEvent(JSON.stringify(payload), { delivery }));
        if (response.statusCode !== 202) {
          assert.equal(response.statusCode, 400, response.body);
          assert.match(JSON.parse(response.body ?? "{}").message, /repository/);
          return;
        }
        accepted++;
        assert.equal(queued.length, 1, response.body);
        const [decoded] = decodeBatch([{ messageId: "m", groupId: "g", body: queued[0].body }], POOLS);
        assert.ok("message" in decoded, `the launcher refused ${queued[0].body}`);
        assert.deepEqual(decoded.message, queued[0].message);
      }),
      { numRuns: 300 },
    );
    assert.ok(accepted > 0, "no generated delivery was accepted");
  });
});
