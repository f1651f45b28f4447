import { strict as assert } from "node:assert";
import {
  countWarmCapacity,
  isWithinWarmHours,
  localWeekdayAndHour,
  joinWarmPools,
  selectWarmSurplus,
  warmDeficit,
} from "../../../../runtime/core/warm-pool/schedule.js";
import type { RuntimePool, WarmSchedule } from "../../../../contract/pool.js";

const office: WarmSchedule = {
  size: 4,
  days: ["mon", "tue", "wed", "thu", "fri"],
  startHour: 7,
  endHour: 19,
  timezone: "Europe/Berlin",
};

describe("warm pool: isWithinWarmHours", () => {
  it("uses the schedule's time zone (CEST is UTC+2 in summer)", () => {
    // Monday 2 June 2025.
    assert.equal(isWithinWarmHours(office, new Date("2025-06-02T04:59:59Z")), false, "06:59 in Berlin");
    assert.equal(
      isWithinWarmHours(office, new Date("2025-06-02T05:00:00Z")),
      true,
      "07:00 in Berlin: the start hour is included",
    );
    assert.equal(isWithinWarmHours(office, new Date("2025-06-02T16:59:59Z")), true, "18:59 in Berlin");
    assert.equal(
      isWithinWarmHours(office, new Date("2025-06-02T17:00:00Z")),
      false,
      "19:00 in Berlin: the end hour is excluded",
    );
  });

  it("follows daylight saving time (CET is UTC+1 in winter)", () => {
    // Monday 13 January 2025.
    assert.equal(isWithinWarmHours(office, new Date("2025-01-13T05:30:00Z")), false, "06:30 in Berlin");
    assert.equal(isWithinWarmHours(office, new Date("2025-01-13T06:00:00Z")), true, "07:00 in Berlin");
    // Sunday 30 March 2025, 01:00 UTC: clocks jump from 02:00 to 03:00 local time.
    assert.deepEqual(localWeekdayAndHour(new Date("2025-03-30T00:59:00Z"), "Europe/Berlin"), {
      weekday: "sun",
      hour: 1,
    });
    assert.deepEqual(localWeekdayAndHour(new Date("2025-03-30T01:00:00Z"), "Europe/Berlin"), {
      weekday: "sun",
      hour: 3,
    });
    const sundayNight = { ...office, days: ["sun" as const], startHour: 3, endHour: 4 };
    assert.equal(isWithinWarmHours(sundayNight, new Date("2025-03-30T01:00:00Z")), true);
    assert.equal(isWithinWarmHours(sundayNight, new Date("2025-03-30T00:59:00Z")), false);
  });

  it("takes the weekday in the time zone, not in UTC", () => {
    // Friday 23:30 UTC is already Saturday 08:30 in Tokyo.
    const tokyo = { ...office, timezone: "Asia/Tokyo" };
    assert.equal(isWithinWarmHours(tokyo, new Date("2025-06-06T23:30:00Z")), false);
    assert.equal(isWithinWarmHours({ ...tokyo, days: ["sat"] }, new Date("2025-06-06T23:30:00Z")), true);
  });

  it("keeps runners warm until midnight with endHour 24", () => {
    const late = { ...office, timezone: "UTC", startHour: 20, endHour: 24 };
    assert.equal(isWithinWarmHours(late, new Date("2025-06-02T23:59:59Z")), true);
    assert.equal(
      isWithinWarmHours(late, new Date("2025-06-03T00:00:00Z")),
      false,
      "Tuesday 00:00 is not Monday's window",
    );
    assert.equal(isWithinWarmHours({ ...late, startHour: 0 }, new Date("2025-06-03T00:00:00Z")), true);
  });

  it("names an unknown time zone", () => {
    assert.throws(
      () => isWithinWarmHours({ ...office, timezone: "Mars/Olympus" }, new Date()),
      /unknown time zone "Mars\/Olympus"/,
    );
  });
});

describe("warm pool: warmDeficit", () => {
  const counts = { size: 4, idleOnline: 0, booting: 0, live: 0, maxRunners: 10 };

  it("starts what is missing to the size, counting idle and booting runners", () => {
    assert.equal(warmDeficit(counts), 4);
    assert.equal(warmDeficit({ ...counts, idleOnline: 1, booting: 2, live: 3 }), 1);
    assert.equal(warmDeficit({ ...counts, idleOnline: 3, booting: 1, live: 4 }), 0);
    assert.equal(
      warmDeficit({ ...counts, idleOnline: 6, live: 6 }),
      0,
      "more idle than wanted: nothing, never negative",
    );
  });

  it("never exceeds the pool's remaining capacity", () => {
    assert.equal(warmDeficit({ ...counts, live: 8 }), 2);
    assert.equal(warmDeficit({ ...counts, live: 10 }), 0);
    assert.equal(warmDeficit({ ...counts, live: 12 }), 0, "over capacity (busy jobs): still nothing");
  });

  it("rejects counts that are not non-negative integers, naming them", () => {
    assert.throws(() => warmDeficit({ ...counts, booting: -1 }), /booting must be a non-negative integer/);
    assert.throws(() => warmDeficit({ ...counts, size: 1.5 }), /size must be/);
  });
});

describe("warm pool: countWarmCapacity and selectWarmSurplus", () => {
  const now = new Date("2025-06-02T10:00:00Z");
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

  it("counts idle online runners once, and warm instances still booting", () => {
    const result = countWarmCapacity({
      now,
      bootGraceMinutes: 10,
      instances: [
        { runnerName: "idle-warm", launchTime: minutesAgo(30), warm: true },
        { runnerName: "idle-job", launchTime: minutesAgo(2), warm: false },
        { runnerName: "busy", launchTime: minutesAgo(60), warm: true },
        { runnerName: "booting-warm", launchTime: minutesAgo(10), warm: true },
        { runnerName: "stuck-warm", launchTime: minutesAgo(11), warm: true },
        { runnerName: "booting-job", launchTime: minutesAgo(1), warm: false },
      ],
      runners: [
        { name: "idle-warm", status: "online", busy: false },
        { name: "idle-job", status: "online", busy: false },
        { name: "busy", status: "online", busy: true },
        { name: "booting-warm", status: "offline", busy: false },
      ],
    });
    assert.deepEqual(result, { idleOnline: 2, booting: 1, live: 6 });
  });

  it("retires only idle online warm runners", () => {
    const surplus = selectWarmSurplus({
      instances: [
        { instanceId: "i-1", runnerName: "w-idle", launchTime: now, warm: true },
        { instanceId: "i-2", runnerName: "w-busy", launchTime: now, warm: true },
        { instanceId: "i-3", runnerName: "job-idle", launchTime: now, warm: false },
        { instanceId: "i-4", runnerName: "w-booting", launchTime: now, warm: true },
      ],
      runners: [
        { id: 1, name: "w-idle", status: "online", busy: false },
        { id: 2, name: "w-busy", status: "online", busy: true },
        { id: 3, name: "job-idle", status: "online", busy: false },
        { id: 4, name: "w-booting", status: "offline", busy: false },
      ],
    });
    assert.deepEqual(surplus, [{ instanceId: "i-1", runnerId: 1, runnerName: "w-idle" }]);
  });
});

describe("warm pool: joinWarmPools", () => {
  const pool: RuntimePool = {
    name: "linux-x64",
    labels: ["self-hosted"],
    instanceTypes: ["m7i.large"],
    architecture: "x64",
    maxRunners: 3,
    spot: false,
  };
  const warm = { pool: "linux-x64", size: 2, days: ["mon" as const], startHour: 7, endHour: 19, timezone: "UTC" };

  it("joins each warm pool with its pool", () => {
    assert.deepEqual(joinWarmPools([warm], [pool], "org"), [{ warm, pool }]);
  });

  it("names CIRUNNERS_WARM_POOLS when a warm pool names no pool, is too large or the scope is repo", () => {
    assert.throws(
      () => joinWarmPools([{ ...warm, pool: "gpu" }], [pool], "org"),
      /CIRUNNERS_WARM_POOLS: pool "gpu" is not in CIRUNNERS_POOLS/,
    );
    assert.throws(
      () => joinWarmPools([{ ...warm, size: 4 }], [pool], "org"),
      /CIRUNNERS_WARM_POOLS: .*maxRunners is 3/,
    );
    assert.throws(
      () => joinWarmPools([warm], [pool], "repo"),
      /CIRUNNERS_WARM_POOLS: warm pools need CIRUNNERS_RUNNER_SCOPE "org"/,
    );
  });
});
