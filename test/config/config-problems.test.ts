/**
 * Every message for bad input names the key, what was found and what is expected.
 */
import * as assert from "node:assert/strict";
import { assertProblem, problemsOf, validConfig } from "./support";

/** Runs the parser on the valid config changed by `mutate` (and the given region; null: none). */
function problems(mutate: (c: any) => void, region: string | null = "eu-west-1"): string[] {
  const config = validConfig();
  mutate(config);
  return problemsOf(config, { region });
}

describe("stack configuration", () => {
  describe("names the key, what was found and what is expected", () => {
    it("missing region", () => {
      assertProblem(
        problems(() => undefined, null),
        /^aws:region: expected an AWS region like eu-west-1, found nothing$/,
      );
      assertProblem(
        problems(() => undefined, "Europe"),
        /^aws:region: .* found "Europe"$/,
      );
    });

    it("missing sections and keys", () => {
      assertProblem(
        problems((c) => delete c.github),
        /^cirunners:github: expected object, found nothing$/,
      );
      assertProblem(
        problems((c) => delete c.runners.pools[0].maxRunners),
        /^cirunners:runners\.pools\[0\]\.maxRunners: expected number, found nothing$/,
      );
    });

    it("wrong types", () => {
      assertProblem(
        problems((c) => (c.github.appId = "42")),
        /^cirunners:github\.appId: expected number, found "42"$/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].spot = "yes")),
        /^cirunners:runners\.pools\[0\]\.spot: expected boolean, found "yes"$/,
      );
      assertProblem(
        problems((c) => (c.runners.pools = {})),
        /^cirunners:runners\.pools: expected array, found \{\}$/,
      );
    });

    it("unknown keys, with the path of the typo", () => {
      assertProblem(
        problems((c) => (c.runner = {})),
        /^cirunners:runner: unknown key/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].maxRunner = 3)),
        /^cirunners:runners\.pools\[0\]\.maxRunner: unknown key/,
      );
    });

    it("instance types that do not look like EC2 instance types", () => {
      assertProblem(
        problems((c) => (c.runners.pools[0].instanceTypes = ["huge"])),
        /^cirunners:runners\.pools\[0\]\.instanceTypes\[0\]: expected an EC2 instance type like m7i\.large, found "huge"$/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].instanceTypes = ["M7I.LARGE"])),
        /instanceTypes\[0\]: expected an EC2 instance type/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].instanceTypes = [])),
        /instanceTypes: expected at least 1 item/,
      );
    });

    it("instance types of the wrong architecture", () => {
      assertProblem(
        problems((c) => (c.runners.pools[0].instanceTypes = ["m7g.large"])),
        /instanceTypes\[0\]: instance type is arm64 but the pool's architecture is x64, found "m7g\.large"$/,
      );
    });

    it("bad CIDR blocks and subnet ids", () => {
      assertProblem(
        problems((c) => (c.network = { cidrBlock: "10.0.0.1/16" })),
        /^cirunners:network\.cidrBlock: expected an IPv4 CIDR block like 10\.0\.0\.0\/16, found "10\.0\.0\.1\/16"$/,
      );
      assertProblem(
        problems((c) => (c.network = { cidrBlock: "10.300.0.0/16" })),
        /network\.cidrBlock: expected an IPv4 CIDR block/,
      );
      assertProblem(
        problems(
          (c) =>
            (c.network = {
              vpcId: "vpc-0a1b2c3d4e5f60718",
              privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-xyz"],
            }),
        ),
        /^cirunners:network\.privateSubnetIds\[1\]: expected a subnet id like subnet-0123456789abcdef0, found "subnet-xyz"$/,
      );
      assertProblem(
        problems(
          (c) => (c.network = { vpcId: "vpc-0a1b2c3d4e5f60718", privateSubnetIds: ["subnet-0a1b2c3d4e5f60711"] }),
        ),
        /privateSubnetIds: expected at least two private subnets/,
      );
      assertProblem(
        problems(
          (c) =>
            (c.network = {
              vpcId: "my-vpc",
              privateSubnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
            }),
        ),
        /^cirunners:network\.vpcId: expected a VPC id/,
      );
    });

    it("duplicate pool names and identical label sets", () => {
      const duplicate = problems((c) =>
        c.runners.pools.push({ ...c.runners.pools[0], labels: ["self-hosted", "linux", "x64", "big"] }),
      );
      assertProblem(
        duplicate,
        /^cirunners:runners\.pools\[1\]\.name: duplicate pool name \(also pools\[0\]\), found "linux-x64"$/,
      );
      const sameLabels = problems((c) =>
        c.runners.pools.push({ ...c.runners.pools[0], name: "other", labels: ["X64", "Linux", "self-hosted"] }),
      );
      assertProblem(sameLabels, /^cirunners:runners\.pools\[1\]\.labels: same label set as pools\[0\]/);
    });

    it("empty label sets and repeated labels", () => {
      assertProblem(
        problems((c) => (c.runners.pools[0].labels = [])),
        /^cirunners:runners\.pools\[0\]\.labels: expected a non-empty set of labels, found \[\]$/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].labels = ["linux", "Linux"])),
        /labels: label "linux" appears twice/,
      );
      assertProblem(
        problems((c) => (c.runners.pools = [])),
        /^cirunners:runners\.pools: expected at least one runner pool, found \[\]$/,
      );
    });

    it("repository scope without repositories", () => {
      assertProblem(
        problems((c) => (c.github.scope = "repo")),
        /^cirunners:github\.repositories: scope "repo" needs at least one repository, found \[\]$/,
      );
      assertProblem(
        problems((c) => (c.github.scope = "enterprise")),
        /^cirunners:github\.scope: expected one of "org", "repo", found "enterprise"$/,
      );
    });

    it("warm pools larger than the pool or with hours the wrong way round", () => {
      assertProblem(
        problems((c) => (c.runners.pools[0].warmPool = { size: 6, startHour: 8, endHour: 18 })),
        /warmPool\.size: warm pool larger than maxRunners \(5\)/,
      );
      assertProblem(
        problems((c) => (c.runners.pools[0].warmPool = { size: 1, startHour: 18, endHour: 8 })),
        /warmPool\.endHour: endHour must be after startHour/,
      );
      // The schedule is the contract's, the one the warm-pool function decodes: a zone it could not use fails here.
      assertProblem(
        problems((c) => (c.runners.pools[0].warmPool = { size: 1, startHour: 8, endHour: 18, timezone: "Mars/Base" })),
        /^cirunners:runners\.pools\[0\]\.warmPool\.timezone: expected an IANA time zone like Europe\/Berlin, found "Mars\/Base"$/,
      );
    });

    it("tasks: Fargate sizes, egress, repositories and secrets", () => {
      const task = {
        name: "db-migrate",
        repositories: [{ repository: "acme/app", branches: ["main"] }],
        cpu: 512,
        memory: 1024,
        egress: [{ cidrBlock: "10.0.0.0/16", port: 5432 }],
      };
      assert.deepEqual(
        problems((c) => (c.tasks = [task])),
        [],
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, memory: 512 }])),
        /^cirunners:tasks\[0\]\.memory: Fargate does not accept 512 MiB with 512 CPU units; allowed: 1024-4096 MiB in steps of 1024, found 512$/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, cpu: 300 }])),
        /^cirunners:tasks\[0\]\.cpu: expected one of 256, 512, 1024/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, egress: [] }])),
        /tasks\[0\]\.egress: expected at least one egress destination/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, egress: [{ port: 5432 }] }])),
        /tasks\[0\]\.egress\[0\]: expected exactly one of securityGroupId or cidrBlock/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, repositories: [{ repository: "acme/*", branches: ["main"] }] }])),
        /repositories\[0\]\.repository: expected "owner\/repository" with no wildcard, found "acme\/\*"/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, repositories: [{ repository: "acme/app" }] }])),
        /repositories\[0\]\.branches: expected at least one branch or environment/,
      );
      assertProblem(
        problems((c) => (c.tasks = [{ ...task, secrets: { DATABASE_URL: "postgres://user:pw@db" } }])),
        /tasks\[0\]\.secrets\.DATABASE_URL: expected an SSM parameter or Secrets Manager secret ARN/,
      );
      assertProblem(
        problems((c) => (c.tasks = [task, task])),
        /^cirunners:tasks\[1\]\.name: duplicate task name/,
      );
    });

    it("warm pools with repository-scoped runners", () => {
      const list = problems((c) => {
        c.github.scope = "repo";
        c.github.repositories = ["app"];
        c.runners.pools[0].warmPool = { size: 1, startHour: 8, endHour: 18 };
      });
      assertProblem(list, /^cirunners:runners\.pools\[0\]\.warmPool: warm pools need github\.scope "org"/);
    });

    it("log retention outside CloudWatch's periods", () => {
      assertProblem(
        problems((c) => (c.logRetentionDays = 10)),
        /^cirunners:logRetentionDays: expected one of CloudWatch's retention periods: 1, 3, 5, 7, 14, 30/,
      );
    });

    it("reports every problem at once", () => {
      const list = problems((c) => {
        c.github.appId = "x";
        c.runners.pools[0].labels = [];
      }, null);
      assert.equal(list.length, 3);
    });
  });
});
