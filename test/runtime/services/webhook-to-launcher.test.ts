/**
 * The webhook and the launcher agree on the job message: whatever the webhook queues, the launcher decodes
 * (once, with the same codec) to the same message. Before the contract, the webhook accepted any
 * `owner/name` with a slash while the launcher's own pattern was stricter, so such jobs were dead-lettered.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { decodeBatch } from "../../../runtime/core/launch/plan.js";
import { createWebhookHandler } from "../../../runtime/services/accept-webhook.js";
import { githubEvent, POOLS, queuedJob, RecordingLogger, RecordingMetrics, SECRET } from "../support/webhook.js";

describe("webhook → launcher: one job message codec", () => {
  it("every message the webhook queues is decoded by the launcher to the same message", async () => {
    const queued: { message: unknown; body: string }[] = [];
    const handler = createWebhookHandler({
      pools: POOLS,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      webhookSecret: async () => SECRET,
      enqueue: async (message, body) => {
        queued.push({ message, body });
      },
    });
    const namePart = fc.stringMatching(/^[A-Za-z0-9_.\- ]{0,12}$/);
    const repository = fc.oneof(
      fc.tuple(namePart, namePart).map(([owner, name]) => `${owner}/${name}`),
      fc.constantFrom("acme_corp/app", "a/b", "octo-org/.github", "-x/y", "x/y/z", "owner_emu/r.e-p_o"),
    );
    await fc.assert(
      fc.asyncProperty(repository, fc.uuid(), async (fullName, delivery) => {
        queued.length = 0;
        const payload = queuedJob(["self-hosted", "linux", "x64"], {
          repository: { full_name: fullName, owner: { login: fullName.split("/")[0] || "x" } },
        });
        const response = await handler(await githubEvent(JSON.stringify(payload), { delivery }));
        if (response.statusCode !== 202) {
          assert.equal(response.statusCode, 400, response.body);
          assert.match(JSON.parse(response.body ?? "{}").message, /repository/);
          return;
        }
        const [decoded] = decodeBatch([{ messageId: "m", groupId: "g", body: queued[0].body }], POOLS);
        assert.ok("message" in decoded, `the launcher refused ${queued[0].body}`);
        assert.deepEqual(decoded.message, queued[0].message);
      }),
      { numRuns: 300 },
    );
  });
});
