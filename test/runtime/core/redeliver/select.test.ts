import { strict as assert } from "node:assert";
import {
  DEFAULT_REDELIVERY_POLICY,
  type HookDelivery,
  isFailedDelivery,
  planRedeliveries,
} from "../../../../runtime/core/redeliver/select.js";

const NOW = new Date("2025-06-02T12:00:00Z");
let nextId = 1;

function delivery(guid: string, statusCode: number, minutesAgo: number, redelivery = false): HookDelivery {
  return {
    id: nextId++,
    guid,
    deliveredAt: new Date(NOW.getTime() - minutesAgo * 60_000),
    redelivery,
    statusCode,
    event: "workflow_job",
    action: "queued",
  };
}

const plan = (deliveries: HookDelivery[], overrides = {}) =>
  planRedeliveries(deliveries, { ...DEFAULT_REDELIVERY_POLICY, now: NOW, ...overrides });
const ids = (deliveries: HookDelivery[]) => deliveries.map((d) => d.id);

describe("redeliver: planRedeliveries", () => {
  it("counts no answer (0) and 4xx/5xx as failed, 2xx and 3xx as delivered", () => {
    assert.deepEqual(
      [0, 200, 202, 302, 400, 401, 429, 500, 502].map((statusCode) => isFailedDelivery({ statusCode })),
      [true, false, false, false, true, true, true, true, true],
    );
  });

  it("redelivers a failed delivery, a timeout and a 401, and leaves successes alone", () => {
    const failed = delivery("a", 502, 10);
    const timedOut = delivery("b", 0, 9);
    const unauthorized = delivery("c", 401, 8);
    const ok = delivery("d", 202, 7);
    const result = plan([ok, unauthorized, timedOut, failed]);
    assert.deepEqual(ids(result.redeliver), ids([failed, timedOut, unauthorized]));
    assert.deepEqual(result.skipped, [{ guid: "d", reason: "delivered" }]);
  });

  it("skips a guid with any successful attempt, and redelivers only the newest failed attempt", () => {
    const arrived = [delivery("a", 502, 30), delivery("a", 202, 20, true)];
    const stillFailing = [delivery("b", 502, 60), delivery("b", 502, 50, true)];
    const result = plan([...arrived, ...stillFailing]);
    assert.deepEqual(ids(result.redeliver), [stillFailing[1].id]);
    assert.deepEqual(result.skipped, [{ guid: "a", reason: "delivered" }]);
  });

  it("backs off between redeliveries of one guid: 5, 10, 20 ... minutes, at most an hour", () => {
    const once = [delivery("a", 502, 30), delivery("a", 502, 4, true)];
    assert.deepEqual(plan(once).skipped, [{ guid: "a", reason: "backing-off" }]);
    assert.equal(plan([delivery("a2", 502, 30), delivery("a2", 502, 5, true)]).redeliver.length, 1);
    const twice = [delivery("b", 502, 60), delivery("b", 502, 40, true), delivery("b", 502, 9, true)];
    assert.deepEqual(plan(twice).skipped, [{ guid: "b", reason: "backing-off" }]);
    const many = [delivery("c", 502, 170), ...[8, 7, 6, 5, 4].map((m) => delivery("c", 502, m * 20, true))];
    many.push(delivery("c", 502, 61, true));
    assert.equal(plan(many).redeliver.length, 1, "the wait stops growing at an hour");
  });

  it("does not replay answers that depend only on the bytes (400, 405, 413, 422)", () => {
    const result = plan([400, 405, 413, 422].map((status, i) => delivery(`g${i}`, status, 5)));
    assert.deepEqual(result.redeliver, []);
    assert.ok(result.skipped.every((s) => s.reason === "replay-would-fail"));
  });

  it("leaves events whose first attempt is outside the window or not listed", () => {
    const old = delivery("a", 502, 181);
    const orphanRedelivery = delivery("b", 502, 30, true);
    const result = plan([old, orphanRedelivery]);
    assert.deepEqual(result.redeliver, []);
    assert.deepEqual(result.skipped.map((s) => s.reason).sort(), ["outside-window", "outside-window"]);
  });

  it("takes at most `limit` per run, oldest events first", () => {
    const deliveries = [delivery("new", 502, 1), delivery("old", 502, 100), delivery("mid", 502, 50)];
    const result = plan(deliveries, { limit: 2 });
    assert.deepEqual(
      result.redeliver.map((d) => d.guid),
      ["old", "mid"],
    );
    assert.deepEqual(result.skipped, [{ guid: "new", reason: "over-limit" }]);
  });
});
