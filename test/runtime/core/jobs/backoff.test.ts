import assert from "node:assert/strict";
import fc from "fast-check";
import {
  capacityWaitMs,
  FIRST_RETRY_MS,
  launchRetryDelayMs,
  MAX_RETRY_MS,
} from "../../../../runtime/core/jobs/backoff.js";

describe("core/jobs: retry waits", () => {
  it("doubles a failed launch's wait from 30 s up to 10 minutes", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 100].map(launchRetryDelayMs),
      [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000],
    );
  });

  it("waits for capacity as long again as the job has waited, within 30 s and 10 minutes", () => {
    const queuedAt = "2026-05-01T10:00:00Z";
    const at = (seconds: number) => new Date(Date.parse(queuedAt) + seconds * 1000);
    assert.equal(capacityWaitMs(queuedAt, at(1)), FIRST_RETRY_MS);
    assert.equal(capacityWaitMs(queuedAt, at(90)), 90_000);
    assert.equal(capacityWaitMs(queuedAt, at(7200)), MAX_RETRY_MS);
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 100_000 }), (seconds) => {
        const wait = capacityWaitMs(queuedAt, at(seconds));
        assert.ok(wait >= FIRST_RETRY_MS && wait <= MAX_RETRY_MS);
      }),
    );
  });
});
