import assert from "node:assert/strict";
import type { JobMessage } from "../../../../contract/job.js";
import type { RuntimePool } from "../../../../contract/pool.js";
import {
  type BatchRecord,
  capacityAvailable,
  overLimit,
  decodeBatch,
  type PlannedJob,
  planWave,
} from "../../../../runtime/core/launch/plan.js";

const MESSAGE: JobMessage = {
  version: 1,
  deliveryId: "d-1",
  recordVersion: 0,
  pool: "linux-x64",
  jobId: 42,
  runId: 7,
  runAttempt: 1,
  repository: "octo-org/app",
  owner: "octo-org",
  installationId: 3,
  labels: ["self-hosted", "linux", "x64"],
  enqueuedAt: "2025-01-01T00:00:00.000Z",
};
const POOLS: RuntimePool[] = [
  {
    name: "linux-x64",
    labels: ["self-hosted", "linux", "x64"],
    instanceTypes: ["m7i.large"],
    architecture: "x64",
    maxRunners: 2,
    spot: false,
    launchTemplateId: "lt-0aaa",
  },
  {
    name: "linux-arm",
    labels: ["self-hosted", "linux", "arm64"],
    instanceTypes: ["m7g.large"],
    architecture: "arm64",
    maxRunners: 5,
    spot: true,
    launchTemplateId: "lt-0bbb",
  },
];

const record = (id: string, group: string, body: unknown): BatchRecord => ({
  messageId: id,
  groupId: group,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

const planned = (records: BatchRecord[]) => decodeBatch(records, POOLS).filter((r): r is PlannedJob => "message" in r);

describe("decodeBatch", () => {
  it("decodes each body with the job message codec and numbers the waves within each group", () => {
    const decoded = decodeBatch(
      [record("a", "g1", MESSAGE), record("b", "g2", MESSAGE), record("c", "g1", { ...MESSAGE, jobId: 43 })],
      POOLS,
    );
    assert.deepEqual(
      decoded.map((r) => [r.messageId, r.wave, "message" in r && r.message.jobId]),
      [
        ["a", 0, 42],
        ["b", 0, 42],
        ["c", 1, 43],
      ],
    );
    assert.equal("pool" in decoded[0] && decoded[0].pool, POOLS[0]);
  });

  it("fails malformed and unknown-pool messages, naming what is wrong", () => {
    const cases: Array<[unknown, string, RegExp]> = [
      ["not json", "malformed", /not JSON/],
      ["[1]", "malformed", /object/],
      [{ ...MESSAGE, version: 2 }, "malformed", /version/],
      [{ ...MESSAGE, jobId: "42" }, "malformed", /jobId/],
      [{ ...MESSAGE, installationId: 0 }, "malformed", /installationId/],
      [{ ...MESSAGE, repository: "app" }, "malformed", /repository/],
      [{ ...MESSAGE, labels: [] }, "malformed", /labels/],
      [{ ...MESSAGE, enqueuedAt: "yesterday" }, "malformed", /enqueuedAt/],
      [{ ...MESSAGE, pool: "gpu" }, "unknown-pool", /gpu.*linux-x64, linux-arm/],
    ];
    for (const [body, reason, detail] of cases) {
      const [decoded] = decodeBatch([record("m", "g", body)], POOLS);
      assert.ok("failure" in decoded, JSON.stringify(body));
      assert.equal(decoded.failure.reason, reason, JSON.stringify(body));
      assert.match(decoded.failure.detail, detail);
    }
  });
});

describe("planWave", () => {
  it("groups jobs by pool in batch order", () => {
    const jobs = planned([
      record("a", "g1", MESSAGE),
      record("b", "g2", { ...MESSAGE, pool: "linux-arm", jobId: 43 }),
      record("c", "g3", { ...MESSAGE, jobId: 44 }),
    ]);
    const plan = planWave(
      jobs,
      new Map([
        ["linux-x64", 2],
        ["linux-arm", 5],
      ]),
    );
    assert.deepEqual([...plan.launches.keys()], ["linux-x64", "linux-arm"]);
    assert.deepEqual(
      plan.launches.get("linux-x64")?.map((j) => j.messageId),
      ["a", "c"],
    );
    assert.equal(plan.failures.size, 0);
  });

  it("fails jobs beyond the pool's free capacity and takes the launches off it", () => {
    const free = new Map([["linux-x64", 1]]);
    const plan = planWave(planned([1, 2, 3].map((i) => record(`m${i}`, `g${i}`, { ...MESSAGE, jobId: i }))), free);
    assert.deepEqual(
      plan.launches.get("linux-x64")?.map((j) => j.messageId),
      ["m1"],
    );
    assert.deepEqual(
      [...plan.failures].map(([id, f]) => [id, f.reason]),
      [
        ["m2", "capacity"],
        ["m3", "capacity"],
      ],
    );
    assert.equal(free.get("linux-x64"), 0);
  });

  it("computes free capacity", () => {
    assert.equal(capacityAvailable(10, 3), 7);
    assert.equal(capacityAvailable(2, 5), 0);
  });
});

describe("launch plan: the pool counted again after a launch", () => {
  it("withdraws as many of this launcher's instances as the pool is over its maximum, the last started first", () => {
    assert.deepEqual(overLimit(5, 5, ["i-1", "i-2"]), []);
    assert.deepEqual(overLimit(5, 6, ["i-1", "i-2"]), ["i-2"]);
    assert.deepEqual(overLimit(5, 9, ["i-1", "i-2"]), ["i-1", "i-2"], "never more than its own");
    assert.deepEqual(overLimit(5, 9, []), []);
  });
});
