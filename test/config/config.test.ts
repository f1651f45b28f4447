import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
  ConfigError,
  instanceTypeArchitecture,
  isCidr,
  parseStackConfig,
  type StackConfigInput,
} from "../../program/config";

const ROOT = path.resolve(__dirname, "..", "..");

/** The project keys of a stack file, without the `cirunners:` prefix, and its region. */
function stackFile(stack: string): { raw: Record<string, unknown>; region: string } {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config as Record<
    string,
    unknown
  >;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc))
    if (key.startsWith("cirunners:")) raw[key.slice("cirunners:".length)] = value;
  return { raw, region: doc["aws:region"] as string };
}

function validConfig(): StackConfigInput & Record<string, unknown> {
  return {
    github: { owner: "acme", appId: 42, appPrivateKeyParameter: "/cirunners/test/app-key" },
    runners: {
      pools: [
        {
          name: "linux-x64",
          labels: ["self-hosted", "linux", "x64"],
          instanceTypes: ["m7i.large"],
          architecture: "x64",
          maxRunners: 5,
        },
      ],
    },
  };
}

/** Runs the parser on a config changed by `mutate` and returns the problems it reports. */
function problems(mutate: (c: any) => void, region: string | null = "eu-west-1"): string[] {
  const config = structuredClone(validConfig());
  mutate(config);
  try {
    parseStackConfig(config, "test", region ?? undefined);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(
      error.message,
      /^invalid stack configuration in Pulumi\.test\.yaml \(\d+ problems?\):\n {2}- Pulumi\.test\.yaml: /,
    );
    return error.problems;
  }
  return [];
}

function assertProblem(list: string[], pattern: RegExp): void {
  assert.ok(
    list.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got:\n${list.join("\n")}`,
  );
}

describe("stack configuration", () => {
  it("accepts the dev and prod stack files", () => {
    for (const stack of ["dev", "prod"]) {
      const { raw, region } = stackFile(stack);
      const config = parseStackConfig(raw, stack, region);
      assert.equal(config.stack, stack);
      assert.equal(config.region, "eu-west-1");
    }
  });

  it("gives the dev stack a pool whose labels are exactly self-hosted, linux, x64 and a created network", () => {
    const { raw, region } = stackFile("dev");
    const config = parseStackConfig(raw, "dev", region);
    assert.ok(config.runners.pools.some((p) => [...p.labels].sort().join(",") === "linux,self-hosted,x64"));
    assert.ok(!("vpcId" in config.network));
    assert.deepEqual(
      config.tasks.map((t) => t.name),
      ["db-migrate"],
    );
  });

  it("sizes prod larger than dev and spans two CodeBuild regions", () => {
    const dev = parseStackConfig(stackFile("dev").raw, "dev", "eu-west-1");
    const prod = parseStackConfig(stackFile("prod").raw, "prod", "eu-west-1");
    const capacity = (c: typeof dev) => c.runners.pools.reduce((sum, p) => sum + p.maxRunners, 0);
    assert.ok(capacity(prod) > capacity(dev));
    assert.deepEqual(
      prod.codebuild?.regions.map((r) => r.region),
      ["eu-west-1", "us-east-1"],
    );
  });

  it("fills defaults", () => {
    const config = parseStackConfig(validConfig(), "test", "eu-west-1");
    assert.equal(config.github.scope, "org");
    assert.equal(config.runners.pools[0].diskSizeGiB, 40);
    assert.equal(config.runners.pools[0].spot, false);
    assert.equal(config.runners.launcher.batchSize, 10);
    assert.equal(config.logRetentionDays, 30);
    assert.deepEqual(config.network, { cidrBlock: "10.20.0.0/16", availabilityZones: 2, natGateways: "single" });
    assert.deepEqual(config.tasks, []);
  });

  it("treats the empty defaults of Pulumi.yaml as unset", () => {
    const config = parseStackConfig(
      { ...validConfig(), githubOidcProviderArn: "", alarmTopicArn: "" },
      "test",
      "eu-west-1",
    );
    assert.equal(config.githubOidcProviderArn, undefined);
  });

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

  describe("helpers", () => {
    it("tells Graviton instance types from x86 ones", () => {
      for (const t of [
        "m7g.large",
        "c7gn.xlarge",
        "t4g.micro",
        "r8gd.2xlarge",
        "a1.large",
        "g5g.xlarge",
        "im4gn.large",
        "is4gen.large",
      ])
        assert.equal(instanceTypeArchitecture(t), "arm64", t);
      for (const t of ["m7i.large", "g5.xlarge", "c6a.large", "m5.large", "t3.micro", "m7i-flex.large", "p4d.24xlarge"])
        assert.equal(instanceTypeArchitecture(t), "x64", t);
    });

    it("accepts only network CIDR blocks", () => {
      assert.ok(isCidr("10.0.0.0/16"));
      assert.ok(isCidr("0.0.0.0/0"));
      assert.ok(isCidr("192.168.1.128/25"));
      assert.ok(!isCidr("10.0.0.1/16"));
      assert.ok(!isCidr("10.0.0.0/33"));
      assert.ok(!isCidr("10.0.0/16"));
      assert.ok(!isCidr("256.0.0.0/8"));
    });
  });
});
