/** The runner image pipeline's settings and the pool keys it adds: defaults, and errors that name the key. */
import { strict as assert } from "node:assert";
import { bakedDiskIssues, runnerImagesSchema } from "../../../program/runner-images/config";

const issues = (input: unknown) => {
  const result = runnerImagesSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("runnerImages config", () => {
  it("defaults every key: a daily build at 04:00 UTC on c7i / c7g, 20 GiB", () => {
    assert.deepEqual(runnerImagesSchema.parse({}), {
      schedule: "cron(0 4 * * ? *)",
      timezone: "UTC",
      instanceTypes: { x64: ["c7i.large"], arm64: ["c7g.large"] },
      volumeSizeGiB: 20,
    });
  });

  it("names the key of each error", () => {
    assert.deepEqual(issues({ schedule: "rate(1 day)" }), [
      'schedule: expected a six-field cron expression like "cron(0 4 * * ? *)"',
    ]);
    assert.deepEqual(issues({ instanceTypes: { x64: ["c7g.large"] } }), [
      "instanceTypes.x64.0: c7g.large is arm64, but this list builds the x64 image",
    ]);
    assert.deepEqual(issues({ instanceTypes: { arm64: [] } }), [
      "instanceTypes.arm64: expected at least one instance type",
    ]);
    assert.equal(issues({ volumeSizeGiB: 4 }).length, 1);
    assert.match(issues({ volumeSizeGiB: 4 })[0], /^volumeSizeGiB: /);
    assert.match(issues({ extra: 1 })[0], /extra/);
  });

  it("flags baked pools whose disk is smaller than the baked image's volume", () => {
    const settings = runnerImagesSchema.parse({ volumeSizeGiB: 30 });
    assert.deepEqual(
      bakedDiskIssues(
        [
          { name: "small", image: "baked", diskSizeGiB: 20 },
          { name: "stock", image: "stock", diskSizeGiB: 8 },
          { name: "big", image: "baked", diskSizeGiB: 40 },
        ],
        settings,
      ),
      ["pool small: diskSizeGiB 20 is smaller than the baked image's volume (runnerImages.volumeSizeGiB 30)"],
    );
  });
});

describe("pool image keys (program/config/schema.ts)", () => {
  const REGION = "eu-west-1";
  const config = (poolExtra: Record<string, unknown>) => ({
    github: { owner: "acme", appId: 1, appPrivateKeyParameter: "/cirunners/dev/app-key" },
    runners: {
      pools: [
        {
          name: "linux",
          labels: ["linux"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 2,
          ...poolExtra,
        },
      ],
    },
  });
  const parse = (poolExtra: Record<string, unknown>) => {
    const { parseStackConfig } = require("../../../program/config") as typeof import("../../../program/config");
    return parseStackConfig(config(poolExtra), "dev", REGION);
  };

  it("defaults to a stock image with docker and without sudo", () => {
    const [pool] = parse({}).runners.pools;
    assert.deepEqual(
      { image: pool.image, docker: pool.docker, sudo: pool.sudo },
      { image: "stock", docker: true, sudo: false },
    );
  });

  it("rejects an unknown image, non-boolean docker and sudo, and an ami on a baked pool, naming the key", () => {
    assert.throws(() => parse({ image: "golden" }), /pools\[0\]\.image: expected one of "stock", "baked"/);
    assert.throws(() => parse({ docker: "yes" }), /docker/);
    assert.throws(() => parse({ sudo: 1 }), /sudo/);
    assert.throws(
      () => parse({ image: "baked", ami: "ami-0123456789abcdef0" }),
      /takes its AMI from the runner image pipeline/,
    );
  });
});
