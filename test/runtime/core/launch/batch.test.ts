import { strict as assert } from "node:assert";
import { triageBatch } from "../../../../runtime/core/launch/batch.js";
import type { DecodedRecord, PlannedJob } from "../../../../runtime/core/launch/plan.js";

const job = (messageId: string, groupId: string, jobId: number): PlannedJob =>
  ({ messageId, groupId, wave: 0, message: { jobId } }) as unknown as PlannedJob;
const failed = (messageId: string, groupId: string): DecodedRecord => ({
  messageId,
  groupId,
  wave: 0,
  failure: { reason: "malformed", detail: "x" },
});

describe("triageBatch", () => {
  it("fails hopeless messages, leaves the rest of their group, and skips a job's second message", () => {
    const t = triageBatch([failed("m1", "g1"), job("m2", "g1", 1), job("m3", "g2", 2), job("m4", "g3", 2)]);
    assert.deepEqual([...t.failures.keys()], ["m1"]);
    assert.deepEqual(
      t.actionable.map((j) => j.messageId),
      ["m3"],
    );
    assert.deepEqual(
      t.skipped.map((s) => [s.job.messageId, s.reason]),
      [["m4", "a duplicate of message m3 in this batch"]],
    );
  });
});
